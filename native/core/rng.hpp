// Deterministic random numbers for the simulator and for policies that choose at random (dfcfs
// push, the random dispatcher). xoshiro256** seeded through splitmix64: fast, reproducible for a
// seed on every platform, and cheap to split into independent streams (one per purpose), so that
// every system in a comparison sees the same arrivals and service times.
//
// The distributions (Draws) are written once over two primitives, a uniform in (0, 1) and the log
// of one; Rng computes each draw when asked, LogStream (the simulator's arrival and service
// streams) a block of draws and their logs ahead, so that the logs' latencies overlap instead of
// stalling the event that waits for one. Both give the same numbers in the same order.
#pragma once

#include <cmath>
#include <cstdint>

namespace pallas {

// Distributions over the uniforms of `Self`: Self::uniform() in (0, 1), and Self::log_uniform(),
// the log of the next uniform (the one uniform() would have returned).
template <class Self>
class Draws {
 public:
  double exponential(double mean) { return -mean * self().log_uniform(); }
  double normal() {
    // Box–Muller; the second value is kept for the next call.
    if (have_spare_) {
      have_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * self().log_uniform());
    const double a = 6.283185307179586 * self().uniform();
    spare_ = r * std::sin(a);
    have_spare_ = true;
    return r * std::cos(a);
  }
  // Gamma with the given shape k > 0 and scale θ (mean kθ): Marsaglia–Tsang, with the k < 1 boost.
  double gamma(double k, double theta) {
    if (k < 1.0) return gamma(k + 1.0, theta) * std::pow(self().uniform(), 1.0 / k);
    const double d = k - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = self().uniform();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * theta;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v * theta;
    }
  }
  // Lognormal with the given mean and σ of the underlying normal.
  double lognormal(double mean, double sigma) {
    return std::exp(std::log(mean) - 0.5 * sigma * sigma + sigma * normal());
  }

 private:
  Self& self() { return static_cast<Self&>(*this); }
  double spare_ = 0;
  bool have_spare_ = false;
};

class Rng : public Draws<Rng> {
 public:
  explicit Rng(uint64_t seed = 1, uint64_t stream = 0) {
    uint64_t x = seed ^ (0x9E3779B97F4A7C15ull * (stream + 1));
    for (auto& w : s_) w = splitmix(&x);
  }

  uint64_t next() {
    const uint64_t r = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }

  // Uniform in (0, 1): never 0, so log() is always finite.
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  double log_uniform() { return std::log(uniform()); }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; the bias is below 2^-32 for n < 2^32).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * static_cast<uint64_t>(n)) >> 32); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t* x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
};

// The uniforms of an Rng with their logs, computed kBlock at a time ahead of use: uniform() and
// log_uniform() give exactly what the Rng's would, in the same order (a uniform whose log is not
// asked for costs a log all the same).
class LogStream : public Draws<LogStream> {
 public:
  explicit LogStream(uint64_t seed = 1, uint64_t stream = 0) : rng_(seed, stream) {}
  double uniform() { return take().u; }
  double log_uniform() { return take().log_u; }

 private:
  static constexpr int kBlock = 64;
  struct Draw {
    double u, log_u;
  };
  const Draw& take() {
    if (i_ == kBlock) refill();
    return block_[i_++];
  }
  void refill() {
    for (Draw& d : block_) {
      d.u = rng_.uniform();
      d.log_u = std::log(d.u);
    }
    i_ = 0;
  }
  Rng rng_;
  Draw block_[kBlock] = {};
  int i_ = kBlock;
};

}  // namespace pallas

// The random processes a workload is made of, shared by the simulator and the load generator so
// that a simulated run and a measured one draw from the same distributions: inter-arrival gaps
// (Poisson, gamma with a given coefficient of variation for bursts, fixed) and service times
// (fixed, exponential, lognormal).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "rng.hpp"

namespace pallas {

enum class Process : uint8_t { kPoisson, kGamma, kFixed };
enum class Dist : uint8_t { kFixed, kExp, kLognormal };

struct ArrivalSpec {
  Process process = Process::kPoisson;
  double cv = 1;  // gamma: coefficient of variation of the inter-arrival time
};

struct ServiceSpec {
  Dist dist = Dist::kExp;
  double mean_ns = 1000;
  double sigma = 1;  // lognormal: σ of the underlying normal
};

// std::llround for 0 <= v < 2^63 (half away from zero, the same result), without its libm call:
// v minus its truncation is exact, so the comparison decides as llround does.
inline uint64_t round_nonneg(double v) {
  const auto r = static_cast<uint64_t>(v);
  return v - static_cast<double>(r) >= 0.5 ? r + 1 : r;
}

// The next inter-arrival gap of a process with the given mean (R: Rng or LogStream, rng.hpp).
template <class R>
double next_gap(const ArrivalSpec& a, double mean, R& rng) {
  switch (a.process) {
    case Process::kPoisson:
      return rng.exponential(mean);
    case Process::kGamma: {
      const double k = 1.0 / (a.cv * a.cv);
      return rng.gamma(k, mean / k);
    }
    case Process::kFixed:
      break;
  }
  return mean;
}

// A service time in ns (at least 1).
template <class R>
uint64_t sample_service(const ServiceSpec& s, R& rng) {
  double v = s.mean_ns;
  switch (s.dist) {
    case Dist::kFixed:
      break;
    case Dist::kExp:
      v = rng.exponential(s.mean_ns);
      break;
    case Dist::kLognormal:
      v = rng.lognormal(s.mean_ns, s.sigma);
      break;
  }
  return std::max<uint64_t>(1, round_nonneg(v));
}

}  // namespace pallas

// Random numbers and distributions (core/rng.hpp, core/dist.hpp): the generator is xoshiro256**
// seeded through splitmix64 (checked against a reference written from the published algorithms),
// deterministic per seed and stream, and each distribution's sample moments are within 5 standard
// errors of the exact ones for a fixed seed (the bounds are derived from the distribution's own
// moments, so they hold for any seed with overwhelming probability).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/dist.hpp"
#include "core/rng.hpp"

using pallas::Rng;

namespace {

// splitmix64 and xoshiro256** as published (Vigna, prng.di.unimi.it).
uint64_t ref_splitmix(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
uint64_t ref_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
struct RefXoshiro {
  uint64_t s[4];
  uint64_t next() {
    const uint64_t result = ref_rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ref_rotl(s[3], 45);
    return result;
  }
};
// rng.hpp's seeding: the state is splitmix64's first four outputs from seed ^ (golden · (stream + 1)).
RefXoshiro ref_seeded(uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (0x9e3779b97f4a7c15ull * (stream + 1));
  RefXoshiro r;
  for (auto& w : r.s) w = ref_splitmix(&x);
  return r;
}

struct Moments {
  double n = 0, mean = 0, m2 = 0, m3 = 0, m4 = 0, min = INFINITY, max = -INFINITY;
  bool finite = true;
  void add(double x) {
    if (!std::isfinite(x)) finite = false;
    min = std::min(min, x);
    max = std::max(max, x);
    xs.push_back(x);
  }
  void done() {
    n = static_cast<double>(xs.size());
    double s = 0;
    for (double x : xs) s += x;
    mean = s / n;
    for (double x : xs) {
      const double d = x - mean;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
  }
  double var() const { return m2; }
  double cv() const { return std::sqrt(m2) / mean; }
  std::vector<double> xs;
};

template <typename F>
Moments sample(int n, F f) {
  Moments m;
  m.xs.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) m.add(f());
  m.done();
  return m;
}

constexpr int kN = 200000;

}  // namespace

TEST_CASE("rng: xoshiro256** seeded by splitmix64, bit for bit") {
  // splitmix64's published first output from state 0: a known answer for the reference itself.
  uint64_t zero = 0;
  REQUIRE(ref_splitmix(&zero) == 0xe220a8397b1dcdafull);
  // seed = golden, stream 0: the splitmix state starts at 0.
  RefXoshiro ref0 = ref_seeded(0x9e3779b97f4a7c15ull, 0);
  CHECK(ref0.s[0] == 0xe220a8397b1dcdafull);
  Rng r0(0x9e3779b97f4a7c15ull, 0);
  for (int i = 0; i < 100; i++) REQUIRE(r0.next() == ref0.next());
  const std::pair<uint64_t, uint64_t> seeds[] = {{1, 0}, {1, 1}, {42, 7}, {0, 0}, {UINT64_MAX, 0xDFCF5}};
  for (const auto& p : seeds) {
    const uint64_t seed = p.first, stream = p.second;  // no structured binding: clang 14 cannot capture one
    CAPTURE(seed);
    CAPTURE(stream);
    Rng r(seed, stream);
    RefXoshiro ref = ref_seeded(seed, stream);
    for (int i = 0; i < 1000; i++) REQUIRE(r.next() == ref.next());
  }
}

TEST_CASE("rng: the same seed and stream give the same numbers, another seed or stream others") {
  Rng a(42, 3), b(42, 3), other_seed(43, 3), other_stream(42, 4);
  int same_seed = 0, same_stream = 0;
  for (int i = 0; i < 1000; i++) {
    const uint64_t x = a.next();
    REQUIRE(x == b.next());
    same_seed += x == other_seed.next();
    same_stream += x == other_stream.next();
  }
  CHECK(same_seed == 0);
  CHECK(same_stream == 0);
  // Default construction is seed 1, stream 0.
  Rng d, one(1, 0);
  for (int i = 0; i < 10; i++) CHECK(d.next() == one.next());
  // Every derived draw is deterministic too (normal's spare included).
  Rng x(9, 1), y(9, 1);
  for (int i = 0; i < 1000; i++) {
    REQUIRE(x.normal() == y.normal());
    REQUIRE(x.gamma(0.3, 2.0) == y.gamma(0.3, 2.0));
    REQUIRE(x.lognormal(5.0, 1.0) == y.lognormal(5.0, 1.0));
    REQUIRE(x.below(17) == y.below(17));
  }
}

TEST_CASE("rng: streams and neighbouring seeds are uncorrelated") {
  const int n = 50000;
  // |r| of two independent uniform sequences has standard error 1/sqrt(n) ≈ 0.0045.
  const double bound = 5.0 / std::sqrt(static_cast<double>(n));
  const std::pair<uint64_t, uint64_t> pairs[][2] = {
      {{1, 0}, {1, 1}}, {{1, 0}, {2, 0}}, {{7, 3}, {7, 4}}, {{1, 5}, {2, 5}}, {{100, 0}, {100, 0xDFCF5}}};
  for (const auto& p : pairs) {
    Rng a(p[0].first, p[0].second), b(p[1].first, p[1].second);
    double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
      const double x = a.uniform(), y = b.uniform();
      sa += x;
      sb += y;
      sab += x * y;
      saa += x * x;
      sbb += y * y;
    }
    const double cov = sab / n - (sa / n) * (sb / n);
    const double r = cov / std::sqrt((saa / n - (sa / n) * (sa / n)) * (sbb / n - (sb / n) * (sb / n)));
    CAPTURE(p[0].first);
    CAPTURE(p[1].second);
    CHECK(std::fabs(r) < bound);
  }
  // A lag-1 correlation within one stream.
  Rng c(3, 0);
  double prev = c.uniform(), s = 0;
  for (int i = 0; i < n; i++) {
    const double x = c.uniform();
    s += (x - 0.5) * (prev - 0.5);
    prev = x;
  }
  CHECK(std::fabs(s / n / (1.0 / 12.0)) < bound);
}

TEST_CASE("rng: uniform is in (0, 1) with mean 1/2 and variance 1/12, flat over 20 bins") {
  Rng r(11, 2);
  int bins[20] = {};
  const Moments m = sample(kN, [&] {
    const double u = r.uniform();
    bins[std::min(19, static_cast<int>(u * 20))]++;
    return u;
  });
  CHECK(m.finite);
  CHECK(m.min > 0.0);
  CHECK(m.max < 1.0);
  CHECK(std::fabs(m.mean - 0.5) < 5 * std::sqrt(1.0 / 12.0 / kN));
  CHECK(std::fabs(m.var() - 1.0 / 12.0) < 5 * std::sqrt((1.0 / 80.0 - 1.0 / 144.0) / kN));
  double chi2 = 0;
  const double e = kN / 20.0;
  for (int b : bins) chi2 += (b - e) * (b - e) / e;
  CHECK(chi2 < 50.0);  // 19 degrees of freedom: P(χ² > 50) ≈ 1e-4
}

TEST_CASE("rng: below(n) is in 0..n-1 and uniform") {
  Rng r(8, 8);
  for (int i = 0; i < 1000; i++) REQUIRE(r.below(1) == 0);
  int counts[7] = {};
  for (int i = 0; i < 70000; i++) {
    const uint32_t v = r.below(7);
    REQUIRE(v < 7);
    counts[v]++;
  }
  double chi2 = 0;
  for (int c : counts) chi2 += (c - 10000.0) * (c - 10000.0) / 10000.0;
  CHECK(chi2 < 30.0);  // 6 degrees of freedom: P(χ² > 30) ≈ 4e-5
  uint32_t hi = 0;
  for (int i = 0; i < 10000; i++) {
    const uint32_t v = r.below(UINT32_MAX);
    REQUIRE(v < UINT32_MAX);
    hi = std::max(hi, v);
  }
  CHECK(hi > UINT32_MAX / 2);  // the range is used, not just its low end
  // below() is a multiply-shift of the top 32 bits: it matches the formula exactly.
  Rng a(4), b(4);
  for (int i = 0; i < 100; i++) REQUIRE(a.below(1000) == static_cast<uint32_t>(((b.next() >> 32) * 1000) >> 32));
}

TEST_CASE("rng: exponential(mean): mean, variance mean², P(X > mean) = 1/e, always positive") {
  for (double mean : {1.0, 1000.0, 2.5e6}) {
    Rng r(21, 1);
    int above = 0;
    const Moments m = sample(kN, [&] {
      const double x = r.exponential(mean);
      above += x > mean;
      return x;
    });
    CAPTURE(mean);
    CHECK(m.finite);
    CHECK(m.min > 0.0);
    CHECK(std::fabs(m.mean / mean - 1) < 5 / std::sqrt(kN));
    CHECK(std::fabs(m.var() / (mean * mean) - 1) < 5 * std::sqrt(8.0 / kN));  // exp: μ4/σ⁴ = 9
    const double p = std::exp(-1.0);
    CHECK(std::fabs(above / static_cast<double>(kN) - p) < 5 * std::sqrt(p * (1 - p) / kN));
  }
}

TEST_CASE("rng: normal: mean 0, variance 1, symmetric, 68.27 % within one sigma") {
  Rng r(31, 0);
  int within = 0;
  const Moments m = sample(kN, [&] {
    const double x = r.normal();
    within += std::fabs(x) < 1.0;
    return x;
  });
  CHECK(m.finite);
  CHECK(std::fabs(m.mean) < 5 / std::sqrt(kN));
  CHECK(std::fabs(m.var() - 1) < 5 * std::sqrt(2.0 / kN));
  CHECK(std::fabs(m.m3) < 5 * std::sqrt(15.0 / kN));      // skewness 0 (Var of x³ is 15)
  CHECK(std::fabs(m.m4 - 3) < 5 * std::sqrt(96.0 / kN));  // kurtosis 3 (Var of x⁴ is 96)
  const double p = 0.682689492;
  CHECK(std::fabs(within / static_cast<double>(kN) - p) < 5 * std::sqrt(p * (1 - p) / kN));
}

TEST_CASE("rng: normal() is Box-Muller over two uniforms, cos first, then the kept sin") {
  Rng r(77, 1), u(77, 1);
  for (int i = 0; i < 100; i++) {
    const double u1 = u.uniform(), u2 = u.uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1)), angle = 6.283185307179586 * u2;
    CHECK(r.normal() == doctest::Approx(radius * std::cos(angle)).epsilon(1e-12));
    CHECK(r.normal() == doctest::Approx(radius * std::sin(angle)).epsilon(1e-12));
  }
}

TEST_CASE("rng: gamma(k, theta): mean k·theta, variance k·theta², positive, for small and large shapes") {
  for (double k : {0.1, 0.25, 0.5, 1.0, 2.5, 9.0, 100.0}) {
    const double theta = 3.0;
    Rng r(41, static_cast<uint64_t>(k * 100));
    const Moments m = sample(kN, [&] { return r.gamma(k, theta); });
    CAPTURE(k);
    CHECK(m.finite);
    CHECK(m.min >= 0.0);
    const double mean = k * theta, var = k * theta * theta;
    // Relative standard errors: of the mean 1/sqrt(k·n); of the variance sqrt((6/k + 2)/n) (excess kurtosis 6/k).
    CHECK(std::fabs(m.mean / mean - 1) < 5 / std::sqrt(k * kN));
    CHECK(std::fabs(m.var() / var - 1) < 5 * std::sqrt((6 / k + 2) / kN));
  }
}

TEST_CASE("rng: lognormal(mean, sigma): the mean is `mean`, log-values are normal(ln mean - sigma²/2, sigma)") {
  for (double sigma : {0.25, 1.0, 1.5}) {
    const double mean = 10000.0;
    Rng r(51, static_cast<uint64_t>(sigma * 4));
    Moments logs;
    const Moments m = sample(kN, [&] {
      const double x = r.lognormal(mean, sigma);
      logs.add(std::log(x));
      return x;
    });
    logs.done();
    CAPTURE(sigma);
    CHECK(m.finite);
    CHECK(m.min > 0.0);
    CHECK(std::fabs(logs.mean - (std::log(mean) - sigma * sigma / 2)) < 5 * sigma / std::sqrt(kN));
    CHECK(std::fabs(logs.var() / (sigma * sigma) - 1) < 5 * std::sqrt(2.0 / kN));
    CHECK(std::fabs(m.mean / mean - 1) < 5 * std::sqrt((std::exp(sigma * sigma) - 1) / kN));
  }
  // sigma 0: the mean itself, every time.
  Rng r(1);
  for (int i = 0; i < 100; i++) CHECK(r.lognormal(1234.0, 0.0) == doctest::Approx(1234.0).epsilon(1e-12));
}

TEST_CASE("dist: inter-arrival gaps: Poisson, gamma with a coefficient of variation, fixed") {
  using pallas::ArrivalSpec;
  using pallas::Process;
  const double mean = 5000.0;
  {
    Rng r(61);
    ArrivalSpec a;  // Poisson by default
    CHECK(a.process == Process::kPoisson);
    const Moments m = sample(kN, [&] { return pallas::next_gap(a, mean, r); });
    CHECK(m.finite);
    CHECK(m.min > 0.0);
    CHECK(std::fabs(m.mean / mean - 1) < 5 / std::sqrt(kN));
    CHECK(std::fabs(m.cv() - 1) < 5 * std::sqrt(8.0 / kN) / 2 + 5 / std::sqrt(kN));
  }
  for (double cv : {0.25, 0.5, 1.0, 2.0, 3.0}) {
    Rng r(62, static_cast<uint64_t>(cv * 4));
    ArrivalSpec a{Process::kGamma, cv};
    const Moments m = sample(kN, [&] { return pallas::next_gap(a, mean, r); });
    const double k = 1 / (cv * cv);
    CAPTURE(cv);
    CHECK(m.finite);
    CHECK(m.min >= 0.0);
    CHECK(std::fabs(m.mean / mean - 1) < 5 / std::sqrt(k * kN));
    // The sample cv's relative error: half the variance's, plus the mean's.
    CHECK(std::fabs(m.cv() / cv - 1) < 5 * std::sqrt((6 / k + 2) / kN) / 2 + 5 / std::sqrt(k * kN));
  }
  {
    Rng r(63), untouched(63);
    ArrivalSpec a{Process::kFixed, 1};
    for (int i = 0; i < 100; i++) CHECK(pallas::next_gap(a, 1234.5, r) == 1234.5);
    CHECK(r.next() == untouched.next());  // a fixed process draws nothing
  }
}

TEST_CASE("dist: service times: fixed (rounded, at least 1 ns), exponential, lognormal") {
  using pallas::Dist;
  using pallas::ServiceSpec;
  Rng r(71);
  CHECK(pallas::sample_service(ServiceSpec{Dist::kFixed, 1000.0, 1}, r) == 1000);
  CHECK(pallas::sample_service(ServiceSpec{Dist::kFixed, 1000.4, 1}, r) == 1000);
  CHECK(pallas::sample_service(ServiceSpec{Dist::kFixed, 1000.5, 1}, r) == 1001);  // half away from zero
  CHECK(pallas::sample_service(ServiceSpec{Dist::kFixed, 0.4, 1}, r) == 1);
  CHECK(pallas::sample_service(ServiceSpec{Dist::kFixed, 0.0, 1}, r) == 1);
  CHECK(pallas::sample_service(ServiceSpec{Dist::kFixed, 1e12, 1}, r) == 1000000000000ull);
  Rng fresh(71);
  CHECK(r.next() == fresh.next());  // fixed draws nothing

  ServiceSpec def;  // exponential, mean 1 µs, by default
  CHECK(def.dist == Dist::kExp);
  CHECK(def.mean_ns == 1000.0);
  {
    Rng e(72);
    const Moments m = sample(kN, [&] {
      return static_cast<double>(pallas::sample_service(ServiceSpec{Dist::kExp, 10000, 1}, e));
    });
    CHECK(m.min >= 1.0);
    CHECK(std::fabs(m.mean / 10000 - 1) < 5 / std::sqrt(kN));
    CHECK(std::fabs(m.var() / 1e8 - 1) < 5 * std::sqrt(8.0 / kN));
  }
  {
    // A tiny exponential mean: most draws round to 0 and are lifted to the 1 ns floor.
    Rng e(73);
    const Moments m = sample(10000, [&] {
      return static_cast<double>(pallas::sample_service(ServiceSpec{Dist::kExp, 0.1, 1}, e));
    });
    CHECK(m.min == 1.0);
    CHECK(m.max <= 2.0);
  }
  // sigma up to 1.5: beyond, the sample mean of a lognormal is too skewed for a normal-theory bound.
  for (double sigma : {0.5, 1.0, 1.5}) {
    Rng l(74, static_cast<uint64_t>(sigma * 2));
    const Moments m = sample(kN, [&] {
      return static_cast<double>(pallas::sample_service(ServiceSpec{Dist::kLognormal, 50000, sigma}, l));
    });
    CAPTURE(sigma);
    CHECK(m.finite);
    CHECK(m.min >= 1.0);
    CHECK(std::fabs(m.mean / 50000 - 1) < 5 * std::sqrt((std::exp(sigma * sigma) - 1) / kN));
  }
}

TEST_CASE("round_nonneg rounds as std::llround does, halves away from zero, on the whole range it is used on") {
  Rng r(77, 1);
  for (int i = 0; i < 200000; i++) {
    const double scale = std::ldexp(1.0, static_cast<int>(r.below(62)));
    const double v = r.uniform() * scale;
    REQUIRE(pallas::round_nonneg(v) == static_cast<uint64_t>(std::llround(v)));
  }
  for (double v : {0.0, 0.49999999999999994, 0.5, 1.5, 2.5, 1e15 + 0.5, 4503599627370495.5, 9007199254740993.0, 0x1p62})
    CHECK(pallas::round_nonneg(v) == static_cast<uint64_t>(std::llround(v)));
}

TEST_CASE("LogStream draws exactly what Rng draws, in the same order, whatever the mix of distributions") {
  for (uint64_t seed = 1; seed <= 8; seed++) {
    Rng a(seed, 5), pick(seed, 6);
    pallas::LogStream b(seed, 5);
    for (int i = 0; i < 20000; i++) {
      switch (pick.below(6)) {
        case 0:
          REQUIRE(a.uniform() == b.uniform());
          break;
        case 1:
          REQUIRE(a.exponential(7.5) == b.exponential(7.5));
          break;
        case 2:
          REQUIRE(a.normal() == b.normal());
          break;
        case 3:
          REQUIRE(a.gamma(0.04, 3.0) == b.gamma(0.04, 3.0));  // cv 5: the k < 1 boost
          break;
        case 4:
          REQUIRE(a.lognormal(100.0, 1.5) == b.lognormal(100.0, 1.5));
          break;
        default:
          REQUIRE(a.log_uniform() == b.log_uniform());
      }
    }
  }
}

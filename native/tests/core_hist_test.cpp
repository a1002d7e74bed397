// Histograms (core/hist): bucket geometry, recording, quantiles within 3 significant digits, merge,
// edge values, and the shared-memory LogBuckets layout.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <vector>

#include "core/hist/histogram.hpp"
#include "core/hist/log_buckets.hpp"
#include "core/rng.hpp"

using pallas::Histogram;
using pallas::LogBuckets;

namespace {
// The documented precision: the middle of a bucket is within 2^-11 (< 0.05 %) of any value in it.
constexpr double kRel = 1.0 / 2048.0;

std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> buckets(const Histogram& h) {
  std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> out;
  h.for_each([&](uint64_t lo, uint64_t w, uint64_t n) { out.emplace_back(lo, w, n); });
  return out;
}

// The exact value the quantile is about: the ceil(q·n)-th smallest (at least the first).
uint64_t order_stat(const std::vector<uint64_t>& sorted, double q) {
  const uint64_t n = sorted.size();
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(n))));
  return sorted[rank - 1];
}
}  // namespace

TEST_CASE("hist: bucket geometry is contiguous, log-linear, and 1/1024 wide above 2048") {
  CHECK(Histogram::kBuckets == 2048 + 33 * 1024);
  uint64_t expect_lower = 0;
  for (int i = 0; i < Histogram::kBuckets; i++) {
    REQUIRE(Histogram::lower(i) == expect_lower);
    const uint64_t w = Histogram::width(i);
    if (i < Histogram::kLinear) {
      REQUIRE(w == 1);
    } else {
      // A bucket spans at most 1/1024 of its values.
      REQUIRE(w * 1024 <= Histogram::lower(i));
      REQUIRE(w * 1024 > Histogram::lower(i) / 2);
    }
    REQUIRE(Histogram::index(Histogram::lower(i)) == i);
    REQUIRE(Histogram::index(Histogram::lower(i) + w - 1) == i);
    expect_lower += w;
  }
  CHECK(expect_lower == Histogram::kMax + 1);  // the last bucket ends exactly at 2^44
  CHECK(Histogram::index(Histogram::kMax) == Histogram::kBuckets - 1);
  CHECK(Histogram::index(2047) == 2047);
  CHECK(Histogram::index(2048) == 2048);
  CHECK(Histogram::width(2048) == 2);  // [2048, 4096): 1024 buckets of 2
  CHECK(Histogram::lower(2048 + 1024) == 4096);
}

TEST_CASE("hist: an empty histogram") {
  Histogram h;
  CHECK(h.count() == 0);
  CHECK(h.mean() == 0.0);
  CHECK(h.max() == 0);
  CHECK(h.quantile(0.5) == 0.0);
  CHECK(h.quantile(1.0) == 0.0);
  CHECK(buckets(h).empty());
}

TEST_CASE("hist: values below 2048 are exact") {
  Histogram h;
  for (uint64_t v = 0; v < 2048; v++) h.record(v);
  CHECK(h.count() == 2048);
  CHECK(h.max() == 2047);
  CHECK(h.mean() == doctest::Approx(1023.5).epsilon(1e-12));
  CHECK(h.quantile(0.0) == 0.0);  // rank 1: the smallest
  CHECK(h.quantile(0.5) == 1023.0);
  CHECK(h.quantile(1.0) == 2047.0);
  CHECK(h.quantile(1.0 / 2048.0) == 0.0);
  CHECK(h.quantile(2.0 / 2048.0) == 1.0);
  // Out-of-range quantiles are clamped.
  CHECK(h.quantile(-3.0) == 0.0);
  CHECK(h.quantile(7.0) == 2047.0);
  const auto b = buckets(h);
  REQUIRE(b.size() == 2048);
  CHECK(b.front() == std::make_tuple(uint64_t{0}, uint64_t{1}, uint64_t{1}));
  CHECK(b.back() == std::make_tuple(uint64_t{2047}, uint64_t{1}, uint64_t{1}));
}

TEST_CASE("hist: zero and the maximum are recorded, larger values are clamped to kMax") {
  Histogram h;
  h.record(0);
  CHECK(h.count() == 1);
  CHECK(h.max() == 0);
  CHECK(h.quantile(1.0) == 0.0);
  h.record(Histogram::kMax);
  CHECK(h.max() == Histogram::kMax);
  // The last bucket, [2^44 − 2^33, 2^44): its middle is below the maximum, so no clamping.
  const int last = Histogram::kBuckets - 1;
  const double last_mid =
      static_cast<double>(Histogram::lower(last)) + static_cast<double>(Histogram::width(last) - 1) / 2.0;
  CHECK(Histogram::lower(last) == (1ull << 44) - (1ull << 33));
  CHECK(Histogram::width(last) == (1ull << 33));
  CHECK(h.quantile(1.0) == last_mid);
  CHECK(std::fabs(h.quantile(1.0) - static_cast<double>(Histogram::kMax)) <= kRel * Histogram::kMax);
  h.record(UINT64_MAX);
  h.record(Histogram::kMax + 1);
  CHECK(h.count() == 4);
  CHECK(h.max() == Histogram::kMax);
  CHECK(h.mean() == doctest::Approx(3.0 * static_cast<double>(Histogram::kMax) / 4.0).epsilon(1e-12));
  const auto b = buckets(h);
  REQUIRE(b.size() == 2);
  CHECK(std::get<0>(b[0]) == 0);
  CHECK(std::get<2>(b[0]) == 1);
  CHECK(std::get<0>(b[1]) == Histogram::lower(Histogram::kBuckets - 1));
  CHECK(std::get<2>(b[1]) == 3);
  CHECK(h.quantile(0.25) == 0.0);
  CHECK(h.quantile(0.26) == last_mid);
}

TEST_CASE("hist: a single large value reads back within 3 significant digits") {
  const uint64_t values[] = {
      2048, 2049, 4095, 4096, 12345, 999999, 1000000, 123456789, (1ull << 32) + 1, 1ull << 40, (1ull << 43) + 12345};
  for (uint64_t v : values) {
    Histogram h;
    h.record(v);
    CAPTURE(v);
    CHECK(h.max() == v);
    CHECK(h.mean() == static_cast<double>(v));
    for (double q : {0.0, 0.5, 0.99, 1.0}) {
      const double got = h.quantile(q);
      CHECK(got <= static_cast<double>(v));  // clamped to the exact maximum
      CHECK(std::fabs(got - static_cast<double>(v)) <= kRel * static_cast<double>(v));
    }
  }
  // A value at the bottom of its bucket: the middle is above it, so the quantile is clamped to it.
  Histogram h;
  h.record(4096);  // bucket [4096, 4100)
  CHECK(h.quantile(1.0) == 4096.0);
  h.record(4099);
  CHECK(h.quantile(0.5) == 4097.5);
  CHECK(h.quantile(1.0) == 4097.5);
}

TEST_CASE("hist: quantiles of 1..100000 within 0.05 % of the exact order statistics") {
  Histogram h;
  for (uint64_t v = 1; v <= 100000; v++) h.record(v);
  CHECK(h.count() == 100000);
  CHECK(h.max() == 100000);
  CHECK(h.mean() == doctest::Approx(50000.5).epsilon(1e-12));
  const struct {
    double q;
    double exact;
  } cases[] = {{0.0, 1}, {0.001, 100}, {0.5, 50000}, {0.9, 90000}, {0.99, 99000}, {0.999, 99900}, {1.0, 100000}};
  for (const auto& c : cases) {
    CAPTURE(c.q);
    CHECK(std::fabs(h.quantile(c.q) - c.exact) <= kRel * c.exact);
  }
  CHECK(h.quantile(1.0) == 99999.5);  // the middle of [99968, 100032), below the maximum
  CHECK(h.quantile(0.001) == 100.0);  // still in the linear range: exact
  // Quantiles never decrease with q.
  double last = -1;
  for (int i = 0; i <= 1000; i++) {
    const double q = h.quantile(i / 1000.0);
    REQUIRE(q >= last);
    last = q;
  }
}

TEST_CASE("hist: quantiles of exponential samples within 0.05 % of the exact order statistics") {
  pallas::Rng rng(2024, 7);
  Histogram h;
  std::vector<uint64_t> values;
  for (int i = 0; i < 50000; i++) {
    const uint64_t v = static_cast<uint64_t>(rng.exponential(250000.0));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (uint64_t v : values) sum += static_cast<double>(v);
  CHECK(h.mean() == doctest::Approx(sum / 50000.0).epsilon(1e-12));
  CHECK(h.max() == values.back());
  for (double q : {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
    const double exact = static_cast<double>(order_stat(values, q));
    CAPTURE(q);
    CHECK(std::fabs(h.quantile(q) - exact) <= kRel * exact + 1e-9);
  }
}

TEST_CASE("hist: merge is the histogram of the union, clear empties") {
  pallas::Rng rng(5);
  Histogram a, b, all;
  for (int i = 0; i < 20000; i++) {
    const uint64_t v = static_cast<uint64_t>(rng.lognormal(20000.0, 1.5));
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  a.record(0);
  all.record(0);
  b.record(1ull << 50);  // clamped
  all.record(1ull << 50);
  Histogram m = Histogram();
  m.merge(a);
  m.merge(b);
  CHECK(m.count() == all.count());
  CHECK(m.count() == a.count() + b.count());
  CHECK(m.max() == all.max());
  CHECK(m.max() == Histogram::kMax);
  CHECK(m.mean() == doctest::Approx(all.mean()).epsilon(1e-12));
  CHECK(buckets(m) == buckets(all));
  for (double q : {0.0, 0.5, 0.9, 0.999, 1.0}) CHECK(m.quantile(q) == all.quantile(q));

  // Merging an empty histogram changes nothing; merging into an empty one copies.
  const auto before = buckets(a);
  a.merge(Histogram());
  CHECK(buckets(a) == before);
  Histogram e;
  e.merge(a);
  CHECK(buckets(e) == before);
  CHECK(e.count() == a.count());
  CHECK(e.max() == a.max());

  m.clear();
  CHECK(m.count() == 0);
  CHECK(m.max() == 0);
  CHECK(m.mean() == 0.0);
  CHECK(m.quantile(0.5) == 0.0);
  CHECK(buckets(m).empty());
  m.record(42);
  CHECK(m.count() == 1);
  CHECK(m.quantile(0.5) == 42.0);
}

TEST_CASE("hist: for_each visits non-empty buckets lowest first and the counts add up") {
  Histogram h;
  const uint64_t vs[] = {5, 5, 5, 3000, 3001, 1000000, 1000001, 7};
  for (uint64_t v : vs) h.record(v);
  const auto b = buckets(h);
  // 3000 and 3001 share a bucket of width 2 ([2^11, 2^12)); 1000000 and 1000001 one of width 512
  // ([2^19, 2^20): 2^(19-10)), which starts at 1953 · 512.
  REQUIRE(b.size() == 4);
  CHECK(b[0] == std::make_tuple(uint64_t{5}, uint64_t{1}, uint64_t{3}));
  CHECK(b[1] == std::make_tuple(uint64_t{7}, uint64_t{1}, uint64_t{1}));
  CHECK(b[2] == std::make_tuple(uint64_t{3000}, uint64_t{2}, uint64_t{2}));
  CHECK(b[3] == std::make_tuple(uint64_t{1953 * 512}, uint64_t{512}, uint64_t{2}));
  uint64_t total = 0;
  for (const auto& x : b) total += std::get<2>(x);
  CHECK(total == h.count());
}

TEST_CASE("log buckets: 32 per power of two, exact below 32, last bucket from 2^40") {
  CHECK(LogBuckets::kCount == 1152);
  for (uint64_t v = 0; v < 32; v++) {
    CHECK(LogBuckets::index(v) == static_cast<int>(v));
    CHECK(LogBuckets::lower(static_cast<int>(v)) == v);
  }
  for (int i = 0; i + 1 < LogBuckets::kCount; i++) {
    const uint64_t lo = LogBuckets::lower(i), hi = LogBuckets::lower(i + 1);
    REQUIRE(hi > lo);
    REQUIRE(LogBuckets::index(lo) == i);
    REQUIRE(LogBuckets::index(hi - 1) == i);
    if (i >= LogBuckets::kSub) REQUIRE((hi - lo) * 32 <= lo);  // at most 1/32 of its values
  }
  CHECK(LogBuckets::lower(LogBuckets::kCount - 1) == (1ull << 40) - (1ull << 34));
  CHECK(LogBuckets::index((1ull << 40) - 1) == LogBuckets::kCount - 1);
  CHECK(LogBuckets::index(1ull << 40) == LogBuckets::kCount - 1);
  CHECK(LogBuckets::index(UINT64_MAX) == LogBuckets::kCount - 1);
  pallas::Rng rng(3);
  for (int i = 0; i < 10000; i++) {
    const uint64_t v = rng.next() >> (rng.next() % 64);
    const int k = LogBuckets::index(v);
    REQUIRE(k >= 0);
    REQUIRE(k < LogBuckets::kCount);
    REQUIRE(LogBuckets::lower(k) <= v);
  }
}

// The open-loop load generator: see client.hpp.
#include "client.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cmath>

#include "../platform/thread_cpu.hpp"
#include "../platform/tsc.hpp"

namespace pallas::client {

namespace {

constexpr uint8_t kPending = 0, kSent = 1, kDone = 2;

// Picks a type index from cumulative shares.
uint8_t pick(const std::vector<double>& cum, Rng& rng) {
  const double u = rng.uniform() * cum.back();
  return static_cast<uint8_t>(std::lower_bound(cum.begin(), cum.end(), u) - cum.begin());
}

}  // namespace

Status build_schedule(const ScheduleConfig& c, std::vector<Entry>* out) {
  if (c.types.empty() || c.types.size() > 255)
    return Status::Error("BAD_CONFIG", "client: give 1 to 255 request types");
  if (c.phases.empty()) return Status::Error("BAD_CONFIG", "client: give at least one phase");
  auto bad_gamma = [](const ArrivalSpec& a) { return a.process == Process::kGamma && !(a.cv > 0); };
  if (bad_gamma(c.arrivals)) return Status::Error("BAD_CONFIG", "client: gamma arrivals need cv > 0");
  for (const TypeSpec& ty : c.types)
    if (ty.own_arrivals && bad_gamma(ty.arrivals))
      return Status::Error("BAD_CONFIG", "client: gamma arrivals need cv > 0");
  // Sources, as the simulator has them: each type with arrivals of its own, and one for the rest.
  // Separate streams: the send times do not depend on the mix, nor the mix on the work drawn.
  struct Source {
    std::vector<uint8_t> types;
    ArrivalSpec arrivals;
    Rng gap, mix;
    double t = 0;
  };
  std::vector<Source> sources;
  std::vector<uint8_t> shared;
  for (size_t i = 0; i < c.types.size(); i++) {
    if (c.types[i].own_arrivals)
      sources.push_back(
          {{static_cast<uint8_t>(i)}, c.types[i].arrivals, Rng(c.seed, 210 + i), Rng(c.seed, 470 + i), 0});
    else
      shared.push_back(static_cast<uint8_t>(i));
  }
  if (!shared.empty()) sources.push_back({shared, c.arrivals, Rng(c.seed, 200), Rng(c.seed, 201), 0});
  Rng work_rng(c.seed, 202);
  out->clear();
  uint64_t start = 0;
  for (size_t p = 0; p < c.phases.size(); p++) {
    const PhaseSpec& ph = c.phases[p];
    const std::string where = "client: phase " + std::to_string(p) + ": ";
    if (!(ph.rate_rps > 0) || ph.rate_rps > 1e9)
      return Status::Error("BAD_CONFIG", where + "rate must be in (0, 1e9] req/s");
    if (ph.duration_ns == 0) return Status::Error("BAD_CONFIG", where + "duration must be > 0");
    std::vector<double> shares = ph.shares;
    if (shares.empty())
      for (const TypeSpec& ty : c.types) shares.push_back(ty.share);
    if (shares.size() != c.types.size()) return Status::Error("BAD_CONFIG", where + "one share per type");
    double total = 0;
    for (double s : shares) {
      if (!(s >= 0) || !std::isfinite(s)) return Status::Error("BAD_CONFIG", "client: shares must be >= 0");
      total += s;
    }
    if (!(total > 0)) return Status::Error("BAD_CONFIG", where + "no type has a share");
    const uint64_t end = start + ph.duration_ns;
    const size_t first = out->size();
    for (Source& src : sources) {
      std::vector<double> cum;
      double w = 0;
      for (uint8_t t : src.types) {
        w += shares[t];
        cum.push_back(w);
      }
      if (!(w > 0)) continue;  // none of this source's types in this phase
      const double mean = 1e9 / (ph.rate_rps * w / total);
      // The next phase starts at this one's end: its first gap is drawn from there.
      src.t = static_cast<double>(start);
      for (;;) {
        src.t += next_gap(src.arrivals, mean, src.gap);
        if (src.t >= static_cast<double>(end)) break;
        if (out->size() >= c.max_requests)
          return Status::Error("BAD_CONFIG",
                               "client: the schedule has more than " + std::to_string(c.max_requests) + " requests");
        Entry e;
        e.t_ns = static_cast<uint64_t>(src.t);
        e.type = src.types.size() == 1 ? src.types[0] : src.types[pick(cum, src.mix)];
        out->push_back(e);
      }
    }
    // Several sources: merge them into send order (stable, so equal times keep source order).
    if (sources.size() > 1)
      std::stable_sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(),
                       [](const Entry& a, const Entry& b) { return a.t_ns < b.t_ns; });
    start = end;
  }
  // The work, drawn in send order from its own stream.
  for (Entry& e : *out) {
    const TypeSpec& ty = c.types[e.type];
    if (wire::TypeTable::defaults().payload[ty.wire_type] == wire::PayloadKind::kKv)
      e.arg = ty.keys ? static_cast<uint32_t>(work_rng.next() % ty.keys) : 0;
    else
      e.arg = static_cast<uint32_t>(std::min<uint64_t>(sample_service(ty.service, work_rng), UINT32_MAX));
  }
  return Status::Ok();
}

ClientResult run_client(io::Transport& t, const ClientConfig& c, const std::vector<Entry>& sched, const Tick& tick) {
  prctl(PR_SET_TIMERSLACK, 1UL);  // wake for the next send on time, not up to 50 µs late
  const uint64_t cpu0 = platform::this_thread_cpu_ns();
  // SCHED_FIFO for the run (a libuv worker's thread: its policy is put back after).
  int old_policy = SCHED_OTHER;
  sched_param old_param{};
  bool realtime = false;
  if (c.realtime && pthread_getschedparam(pthread_self(), &old_policy, &old_param) == 0) {
    const sched_param fifo{1};
    realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &fifo) == 0;
  }
  t.thread_enter();
  const platform::TscClock clock = platform::TscClock::calibrate();
  const wire::TypeTable types = wire::TypeTable::defaults();
  const size_t n = sched.size();
  ClientResult r;
  r.scheduled = n;
  r.per_type.resize(c.schedule.types.size());
  for (const Entry& e : sched) r.per_type[e.type].scheduled++;
  std::vector<uint8_t> state(n, kPending);
  uint8_t buf[io::kMaxBurst][wire::kHeaderSize + 8];
  io::TxPacket tx[io::kMaxBurst];
  io::RxPacket in[io::kMaxBurst];
  const uint64_t t0 = clock.now_ns() + c.lead_ns;
  size_t next = 0;  // next request to send
  uint64_t outstanding = 0;
  uint64_t stalled_since = 0;  // the transport refusing everything since (0: not)
  bool stop_sending = false;
  uint32_t k_last = 0;            // sent in the previous loop (tick then)
  uint64_t wake_late_ns = 50000;  // EWMA of how late a timed sleep ends here
  uint32_t idle_loops = 0;

  auto finish = [&](size_t i, uint64_t now, bool notice, uint8_t cause, uint32_t exec_ns) {
    TypeOutcome& to = r.per_type[sched[i].type];
    state[i] = kDone;
    outstanding--;
    if (notice) {
      r.drops++;
      to.drops++;
      r.drops_by_cause[cause < kDropCauses ? cause : 0]++;
    } else {
      r.replies++;
      to.replies++;
      if (sched[i].t_ns >= c.warmup_ns) {
        const uint64_t at = t0 + sched[i].t_ns;
        to.latency.record(now > at ? now - at : 0);
        to.measured++;
        to.exec_ns_sum += exec_ns;
      }
    }
  };

  for (;;) {
    uint64_t now = clock.now_ns();
    const uint64_t rel = now > t0 ? now - t0 : 0;
    if (!stop_sending && (k_last || (++idle_loops & 1023) == 0) && tick(r.sent)) {
      r.aborted = true;
      stop_sending = true;
    }
    // Send what is due, a burst at a time.
    uint32_t k = 0;
    while (!stop_sending && next + k < n && k < io::kMaxBurst && sched[next + k].t_ns <= rel) {
      const Entry& e = sched[next + k];
      const TypeSpec& ty = c.schedule.types[e.type];
      wire::Header h;
      h.type = ty.wire_type;
      h.req_id = static_cast<uint32_t>(next + k + 1);
      h.send_ts = static_cast<uint32_t>(now);
      uint8_t* b = buf[k];
      wire::encode(h, b, sizeof buf[k]);
      uint32_t len = wire::kHeaderSize;
      if (types.payload[ty.wire_type] == wire::PayloadKind::kKv) {
        wire::store_be32(b + len, e.arg);
        b[len + 4] = static_cast<uint8_t>(ty.count >> 8);
        b[len + 5] = static_cast<uint8_t>(ty.count);
        len += 6;
      } else if (types.payload[ty.wire_type] == wire::PayloadKind::kSpin) {
        wire::store_be32(b + len, e.arg);
        len += 4;
      }
      tx[k] = io::TxPacket{b, len, c.dst};
      k++;
    }
    k_last = k;
    if (k) {
      const uint32_t sent = t.tx(tx, k);
      for (uint32_t j = 0; j < sent; j++) {
        const size_t i = next + j;
        const uint64_t lateness = rel - sched[i].t_ns;
        TypeOutcome& to = r.per_type[sched[i].type];
        if (lateness > c.late_ns) {
          r.late++;
          to.late++;
        }
        r.late_max_ns = std::max(r.late_max_ns, lateness);
        state[i] = kSent;
        to.sent++;
        if (r.sent == 0) r.first_send_ns = rel;
        r.last_send_ns = rel;
        r.sent++;
        outstanding++;
      }
      next += sent;
      if (sent < k) {
        // The kernel's or the NIC's queue is full: try again (late) unless it stays refused.
        r.tx_retries++;
        if (stalled_since == 0)
          stalled_since = now;
        else if (now - stalled_since > c.timeout_ns)
          stop_sending = true;
      } else {
        stalled_since = 0;
      }
    }
    // Receive.
    const uint32_t m = t.rx(in, io::kMaxBurst);
    if (m) now = clock.now_ns();
    for (uint32_t j = 0; j < m; j++) {
      wire::Header h;
      if (wire::validate(in[j].data, in[j].len, &types, &h) != wire::Reason::kOk || !(h.flags & wire::kFlagResponse)) {
        r.invalid++;
        continue;
      }
      if (h.req_id == 0 || h.req_id > n) {
        r.unexpected++;
        continue;
      }
      const size_t i = h.req_id - 1;
      if (state[i] == kDone) {
        r.duplicates++;
        continue;
      }
      if (state[i] != kSent) {
        r.unexpected++;
        continue;
      }
      const bool notice = (h.flags & wire::kFlagDropNotice) != 0;
      finish(i, now, notice, notice && in[j].len > wire::kHeaderSize ? in[j].data[wire::kHeaderSize] : 0, h.time_ns);
    }
    // Done? Everything sent (or no more to send) and answered, or the wait for answers is over.
    const bool sending_over = stop_sending || next == n;
    if (sending_over && outstanding == 0) break;
    const uint64_t rel_now = now > t0 ? now - t0 : 0;
    const uint64_t last = n && next ? sched[next - 1].t_ns : 0;
    if (sending_over && rel_now > std::max(last, r.last_send_ns) + c.timeout_ns) break;
    if (m || k) continue;
    // Idle: sleep until the next send is near (or an answer comes), else spin. The sleep ends
    // `margin` early: twice the wake-up lateness this machine has shown (a shared VM wakes tens
    // of µs late, now and then ms), between 20 µs and spin_max_ns; the rest is spun. Without
    // spinning the sleep ends when the send is due.
    const uint64_t due = !sending_over ? sched[next].t_ns : UINT64_MAX;
    const uint64_t margin =
        c.spin_max_ns == 0
            ? 0
            : std::clamp<uint64_t>(wake_late_ns, std::min<uint64_t>(20000, c.spin_max_ns), c.spin_max_ns);
    if (c.spin_max_ns == 0 ? due > rel_now : due > rel_now + margin + 10000) {
      const uint64_t us = std::min<uint64_t>((due == UINT64_MAX ? 1000000000 : due - rel_now - margin) / 1000, 1000);
      const uint64_t want = clock.now_ns() + us * 1000;
      t.wait_rx(static_cast<uint32_t>(std::max<uint64_t>(us, 1)));
      const uint64_t woke = clock.now_ns();
      // Only a full sleep says how late wake-ups are (an arriving reply ends it early).
      if (woke >= want) wake_late_ns = (7 * wake_late_ns + (woke - want)) / 8;
    } else {
      platform::cpu_relax();
    }
  }
  const uint64_t end = clock.now_ns();
  r.end_ns = end > t0 ? end - t0 : 0;
  r.cpu_ns = platform::this_thread_cpu_ns() - cpu0;
  r.realtime = realtime;
  if (realtime) pthread_setschedparam(pthread_self(), old_policy, &old_param);
  for (size_t i = 0; i < n; i++) {
    TypeOutcome& to = r.per_type[sched[i].type];
    if (state[i] == kSent) {
      r.timeouts++;
      to.timeouts++;
    } else if (state[i] == kPending) {
      r.never_sent++;
      to.never_sent++;
    }
  }
  t.thread_exit();
  return r;
}

}  // namespace pallas::client

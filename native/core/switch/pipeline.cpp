// The Pallas switch pipeline: see pipeline.hpp and docs/switch-contract.md.
#include "pipeline.hpp"

#include <string>

#include "../wire/wire_gen.hpp"

namespace pallas::sw {

Status Pipeline::load(const Tables& t) {
  const auto bad = [](const std::string& m) { return Status::Error("BAD_POLICY", m); };
  if (t.groups.empty() || t.groups.size() > kMaxGroups)
    return bad("switch tables need 1 to " + std::to_string(kMaxGroups) + " groups");
  if (t.default_group >= t.groups.size()) return bad("the default group does not exist");
  if (t.tau_shift < wire::kSwTauShiftMin || t.tau_shift > wire::kSwTauShiftMax)
    return bad("tau_shift must be " + std::to_string(wire::kSwTauShiftMin) + " to " +
               std::to_string(wire::kSwTauShiftMax) + " (a window of 2^k ns)");
  if (t.ablation.any() && !allow_ablation_)
    return bad("ablations of the paper's rules are simulator-only; this switch runs the realizable pipeline");
  size_t entries = 0;
  for (uint32_t g = 0; g < t.groups.size(); g++) {
    const GroupTable& gt = t.groups[g];
    entries += gt.wrr.size();
    uint32_t total = 0;
    for (const WrrEntry& e : gt.wrr) {
      if (e.server >= kMaxServers)
        return bad("group " + std::to_string(g) + " names server " + std::to_string(e.server) + " (at most " +
                   std::to_string(kMaxServers) + ")");
      total += e.weight;
    }
    // The P4 program matches a position's low 16 bits (a range key fits in 5 nibbles at most).
    if (total > 0xFFFF)
      return bad("group " + std::to_string(g) + ": its weights sum to " + std::to_string(total) + " (at most 65535)");
    if (gt.clone_target != kNoGroup && (gt.clone_target >= t.groups.size() || gt.clone_target == g))
      return bad("group " + std::to_string(g) + ": clone target " + std::to_string(gt.clone_target) +
                 " is not another group");
    if (gt.balance != Balance::kWrr && gt.balance != Balance::kPo2)
      return bad("group " + std::to_string(g) + ": unknown balancing");
  }
  if (entries > kMaxWrrEntries)
    return bad("more WRR entries than the table holds (" + std::to_string(kMaxWrrEntries) + ")");
  for (uint32_t ty = 0; ty < 256; ty++)
    if (t.type_to_group[ty] != kUnmapped && t.type_to_group[ty] >= t.groups.size())
      return bad("type " + std::to_string(ty) + " maps to a group that does not exist");
  t_ = t;
  ranges_.resize(t_.groups.size());
  has_servers_.assign(t_.groups.size(), false);
  for (uint32_t g = 0; g < kMaxGroups; g++) {
    wrr_counter_.reset(g);
    clone_counter_.reset(g);
  }
  for (uint32_t g = 0; g < t_.groups.size(); g++) {
    ranges_.load(g, t_.groups[g].wrr);
    has_servers_[g] = ranges_.total(g) > 0;
  }
  return Status::Ok();
}

// The group's own requests: WRR, or po2 over the outstanding counts.
uint16_t Pipeline::balance(uint32_t g) {
  if (t_.groups[g].balance == Balance::kPo2) {
    c_.n_po2++;
    const uint64_t r = rng_.next();
    uint16_t a, b, wa, wb;
    ranges_.pick(g, static_cast<uint32_t>(r & 0xFFFF), &a, &wa);
    ranges_.pick(g, static_cast<uint32_t>((r >> 16) & 0xFFFF), &b, &wb);
    return out_.score(g, b, wb) < out_.score(g, a, wa) ? b : a;
  }
  return ranges_.server_at(g, wrr_counter_.next(g, ranges_.total(g)));
}

// A clone's server in its target group h: from h's clone counter over h's WRR ranges (ablation:
// h's own balancing, as if the clone were one of h's requests).
uint16_t Pipeline::clone_server(uint32_t h) {
  if (t_.ablation.shared_clone_counter) return balance(h);
  return ranges_.server_at(h, clone_counter_.next(h, ranges_.total(h)));
}

RequestOut Pipeline::on_request(const PipeRequest& r, uint64_t now_ns) {
  RequestOut out;
  c_.n_requests++;
  uint8_t g = t_.type_to_group[r.type];
  if (g == kUnmapped) {
    g = t_.default_group;
    c_.n_unmapped++;
  }
  const bool bounced = (r.flags & wire::kFlagBounced) != 0;
  if (bounced) {
    c_.n_bounced++;
    out_.dec(r.group, r.server);  // it left the server that bounced it
  }
  uint32_t index = r.index;
  if (index == 0) {
    index = next_index_;
    next_index_ = next_index_ == UINT32_MAX ? 1 : next_index_ + 1;
  }
  out.primary = {g, 0, r.flags, index};
  const bool fresh = !bounced && (r.flags & wire::kCloneMask) == wire::kCloneNone;
  if (fresh) monitor_.count_request(r.type);  // demand, whatever becomes of the request
  if (!has_servers_[g]) {
    out.dropped = true;
    c_.n_drop_no_server++;
    return out;
  }
  // A bounced request is balanced by WRR whatever the group's balancing: its −1 and its new +1
  // are two accesses to the outstanding registers, so a Tofino gives it a second pass, and a po2
  // choice would need a third (docs/switch-contract.md, request path step 3).
  out.primary.server = bounced ? ranges_.server_at(g, wrr_counter_.next(g, ranges_.total(g))) : balance(g);
  out_.inc(g, out.primary.server);
  if (!fresh) return out;
  const GroupTable& gt = t_.groups[g];
  const uint32_t n = burst_.count(t_, g, now_ns);
  if (!t_.clone || gt.c_thres == 0 || n <= gt.c_thres) return out;
  int h;
  if (t_.ablation.argmin_target) {
    if (gt.clone_target == kNoGroup) return out;
    h = burst_.least_burst(t_, g, now_ns, has_servers_);
    if (h < 0) return out;
  } else {
    h = gt.clone_target;
    if (h == kNoGroup) return out;
  }
  // Cloned: the original is marked, then the copy makes its pass in the target group.
  out.primary.flags = static_cast<uint8_t>((r.flags & ~wire::kCloneMask) | wire::kCloneOriginal);
  const uint32_t nh = burst_.count(t_, static_cast<uint32_t>(h), now_ns);
  const uint32_t th = t_.groups[static_cast<uint32_t>(h)].c_thres;
  if (!has_servers_[static_cast<uint32_t>(h)] || (!t_.ablation.argmin_target && th > 0 && nh > th)) {
    c_.n_clone_suppressed++;
    return out;
  }
  out.cloned = true;
  out.clone = {static_cast<uint8_t>(h), clone_server(static_cast<uint32_t>(h)),
               static_cast<uint8_t>((r.flags & ~wire::kCloneMask) | wire::kCloneClone), index};
  out_.inc(static_cast<uint32_t>(h), out.clone.server);
  c_.n_cloned++;
  return out;
}

bool Pipeline::on_reply(const PipeReply& r) {
  c_.n_replies++;
  out_.dec(r.group, r.server);
  switch (classify_reply(filter_, r.flags, r.index)) {
    case ReplyVerdict::kCloneNotice:
      c_.n_clone_drop_notices++;
      return false;
    case ReplyVerdict::kFiltered:
      c_.n_replies_filtered++;
      return false;
    case ReplyVerdict::kForwardNotice:
      // A request dropped for a full queue is demand all the same: count it, so that an overloaded
      // group's share is not read as its throughput. A cloned original's notice is not counted:
      // its clone may still answer and be counted.
      if ((r.flags & wire::kCloneMask) == wire::kCloneNone) monitor_.count_notice(r.type);
      return true;
    case ReplyVerdict::kForward:
      break;
  }
  monitor_.record(r.type, r.time_ns);
  return true;
}

}  // namespace pallas::sw

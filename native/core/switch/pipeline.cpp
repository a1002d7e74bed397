// The Pallas switch pipeline: see pipeline.hpp.
#include "pipeline.hpp"

#include <string>

#include "../wire/wire_gen.hpp"

namespace pallas::sw {

Status Pipeline::load(const Tables& t) {
  if (t.groups.empty() || t.groups.size() > kMaxGroups)
    return Status::Error("BAD_POLICY", "switch tables need 1 to " + std::to_string(kMaxGroups) + " groups");
  if (t.default_group >= t.groups.size()) return Status::Error("BAD_POLICY", "the default group does not exist");
  if (t.tau_ns == 0) return Status::Error("BAD_POLICY", "tau must be > 0");
  size_t entries = 0;
  for (const GroupTable& g : t.groups) entries += g.wrr.size();
  if (entries > kMaxWrrEntries) return Status::Error("BAD_POLICY", "more WRR entries than the table holds (" + std::to_string(kMaxWrrEntries) + ")");
  for (uint32_t ty = 0; ty < 256; ty++)
    if (t.type_to_group[ty] != kUnmapped && t.type_to_group[ty] >= t.groups.size())
      return Status::Error("BAD_POLICY", "type " + std::to_string(ty) + " maps to a group that does not exist");
  const bool resize = t.groups.size() != t_.groups.size();
  t_ = t;
  has_servers_.assign(t_.groups.size(), false);
  for (uint32_t g = 0; g < t_.groups.size(); g++) {
    wrr_.load(g, t_.groups[g].wrr);
    has_servers_[g] = wrr_.total(g) > 0;
  }
  if (resize) burst_.resize(t_.groups.size());
  return Status::Ok();
}

RequestOut Pipeline::on_request(uint8_t type, uint8_t flags, uint32_t index, uint64_t now_ns) {
  RequestOut out;
  c_.n_requests++;
  uint8_t g = t_.type_to_group[type];
  if (g == kUnmapped) {
    g = t_.default_group;
    c_.n_unmapped++;
  }
  const bool bounced = (flags & wire::kFlagBounced) != 0;
  if (bounced) c_.n_bounced++;
  if (index == 0) {
    index = next_index_;
    next_index_ = next_index_ == UINT32_MAX ? 1 : next_index_ + 1;
  }
  out.primary = {g, 0, flags, index};
  if (!wrr_.next(g, &out.primary.server)) {
    out.dropped = true;
    c_.n_drop_no_server++;
    return out;
  }
  const bool fresh = !bounced && (flags & wire::kCloneMask) == wire::kCloneNone;
  if (fresh && burst_.count(t_, g, now_ns) && t_.clone) {
    const int target = burst_.target(t_, g, now_ns, has_servers_);
    if (target >= 0) {
      out.cloned = true;
      out.primary.flags = static_cast<uint8_t>((flags & ~wire::kCloneMask) | wire::kCloneOriginal);
      out.clone = {static_cast<uint8_t>(target), 0, static_cast<uint8_t>((flags & ~wire::kCloneMask) | wire::kCloneClone), index};
      wrr_.next(static_cast<uint32_t>(target), &out.clone.server);
      burst_.add_clone(t_, static_cast<uint32_t>(target), now_ns);
      c_.n_cloned++;
    }
  }
  return out;
}

bool Pipeline::on_reply(uint8_t type, uint8_t flags, uint32_t index, uint32_t time_ns) {
  c_.n_replies++;
  switch (classify_reply(filter_, flags, index)) {
    case ReplyVerdict::kCloneNotice: c_.n_clone_drop_notices++; return false;
    case ReplyVerdict::kFiltered: c_.n_replies_filtered++; return false;
    case ReplyVerdict::kForwardNotice:
      // A request dropped for a full queue is demand all the same: count it (it has no execution
      // time for the EWMA), so that an overloaded group's share is not read as its throughput.
      // A cloned original's notice is not counted: its clone may still answer and be counted.
      if ((flags & wire::kCloneMask) == wire::kCloneNone) monitor_.count_demand(type);
      return true;
    case ReplyVerdict::kForward: break;
  }
  monitor_.record(type, time_ns);
  return true;
}

}  // namespace pallas::sw

// cfcfs: see cfcfs.hpp.
#include "cfcfs.hpp"

#include "bounce.hpp"

namespace pallas::policy {

size_t CentralFifo::purge(const BounceFilter& f, std::vector<Item>* out) { return bounce_from(&q_, f, out); }

}  // namespace pallas::policy

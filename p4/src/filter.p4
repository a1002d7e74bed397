// Reply filter (reply path steps 2-3; in the egress pipeline, where replies are handled): a paired register {lo, hi} per slot, indexed by
// index mod FILTER_SLOTS, an LRU of two indices. reply(idx) returns forward (0) or drop (2);
// forget(idx) removes idx after a clone's drop notice.
#ifndef _PALLAS_FILTER_P4_
#define _PALLAS_FILTER_P4_

#define VERDICT_FORWARD 0
#define VERDICT_DROP 2

control ReplyFilter(in bit<32> index, in bit<1> forget, out bit<8> verdict) {
    Register<pair_t, bit<16>>(PALLAS_FILTER_SLOTS, {0, 0}) filter;
    RegisterAction<pair_t, bit<16>, bit<8>>(filter) reply = {
        void apply(inout pair_t v, out bit<8> rv) {
            if (v.lo == index) { v.lo = v.hi; v.hi = 0; rv = VERDICT_DROP; }
            else if (v.hi == index) { v.hi = 0; rv = VERDICT_DROP; }
            else { v.hi = v.lo; v.lo = index; rv = VERDICT_FORWARD; }
        }
    };
    RegisterAction<pair_t, bit<16>, bit<8>>(filter) forget_it = {
        void apply(inout pair_t v) {
            if (v.lo == index) { v.lo = v.hi; v.hi = 0; }
            else if (v.hi == index) { v.hi = 0; }
        }
    };
    apply {
        verdict = VERDICT_FORWARD;
        if (forget == 1) { forget_it.execute(index[15:0]); }
        else { verdict = reply.execute(index[15:0]); }
    }
}

#endif

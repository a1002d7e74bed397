// Monitor (request path step 2 in the ingress; reply path steps 2 and 4 in the egress): cumulative 32-bit registers per type —
// fresh requests, forwarded replies with their execution time in 16 ns units (rounded), and the
// drop notices of uncloned requests. The control plane reads them every interval and takes
// differences modulo 2^32.
#ifndef _PALLAS_MONITOR_P4_
#define _PALLAS_MONITOR_P4_

control MonitorRequests(in bit<8> type) {
    Register<bit<32>, bit<8>>(256, 0) mon_requests;
    RegisterAction<bit<32>, bit<8>, bit<32>>(mon_requests) add = { void apply(inout bit<32> v) { v = v + 1; } };
    apply { add.execute(type); }
}

control MonitorNotices(in bit<8> type) {
    Register<bit<32>, bit<8>>(256, 0) mon_notices;
    RegisterAction<bit<32>, bit<8>, bit<32>>(mon_notices) add = { void apply(inout bit<32> v) { v = v + 1; } };
    apply { add.execute(type); }
}

// units = (time_ns + 8) >> 4 is computed in two earlier actions (a shift and an add cannot share one),
// as (time_ns >> 4) + time_ns[3]: the same value without the 32-bit overflow of time_ns + 8.
control MonitorReplies(in bit<8> type, in bit<32> units) {
    Register<pair_t, bit<8>>(256, {0, 0}) mon;
    RegisterAction<pair_t, bit<8>, bit<32>>(mon) record = {
        void apply(inout pair_t v) { v.lo = v.lo + 1; v.hi = v.hi + units; }
    };
    apply { record.execute(type); }
}

#endif

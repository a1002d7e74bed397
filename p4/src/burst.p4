// Burst detection (request path step 8, and the copy's pass): the window id comes from the ingress
// MAC timestamp (a window is 2^k ns; k from TAU_SHIFT_MIN to TAU_SHIFT_MAX, chosen by the control
// plane with burst_window's default action), and burst keeps
// {window, count} per group: count(w) returns the requests of the group in the window, this one
// included.
#ifndef _PALLAS_BURST_P4_
#define _PALLAS_BURST_P4_

struct pair_t { bit<32> lo; bit<32> hi; }

// w = tstamp[39:8] >> (k − 8): one slice of the 48-bit timestamp, then a constant shift per k
// (a slice per k would need the timestamp at 17 alignments). Ids repeat every 2^40 ns (18.3 min).
#define WINDOW(K) action window_##K() { md.window = md.t_ns8 >> (K - 8); }

control BurstWindow(in bit<48> tstamp, inout ig_md_t md) {
    action slice() { md.t_ns8 = tstamp[39:8]; }
    WINDOW(8)  WINDOW(9)  WINDOW(10) WINDOW(11) WINDOW(12) WINDOW(13) WINDOW(14) WINDOW(15) WINDOW(16)
    WINDOW(17) WINDOW(18) WINDOW(19) WINDOW(20) WINDOW(21) WINDOW(22) WINDOW(23) WINDOW(24)
    table burst_window {
        actions = { window_8; window_9; window_10; window_11; window_12; window_13; window_14; window_15; window_16;
                    window_17; window_18; window_19; window_20; window_21; window_22; window_23; window_24; }
        default_action = window_14();
        size = 1;
    }
    apply {
        slice();
        burst_window.apply();
    }
}

control Burst(in bit<5> group, inout ig_md_t md) {
    Register<pair_t, bit<5>>(PALLAS_MAX_GROUPS, {0, 0}) burst;
    RegisterAction<pair_t, bit<5>, bit<32>>(burst) count = {
        void apply(inout pair_t v, out bit<32> rv) {
            if (v.lo == md.window) { v.hi = v.hi + 1; } else { v.lo = md.window; v.hi = 1; }
            rv = v.hi;
        }
    };
    // over = c_thres − n: bit 31 set ⇔ n > c_thres (both below 2^31).
    action compare() { md.over = md.c_thres - md.n; }
    apply {
        md.n = count.execute(group);
        compare();
    }
}

#endif

// The register actions of docs/switch-contract.md, compiled for Tofino 1 (TNA) to check that the
// contract can run there: one register action per register per packet, at most two comparisons,
// cross-half assignments in paired registers, windows as a slice of the MAC timestamp, the rounding
// of execution times in two steps, and the po2 choice by min and equality. Not the Pallas program
// (p4/pallas.p4); its stage layout here is the compiler's, and no packet path is complete.
// test/integration/p4-contract.test.ts compiles it with bf-p4c.
#include <core.p4>
#include <tna.p4>

#include "../include/pallas_wire.p4"

header ethernet_h { bit<48> dst; bit<48> src; bit<16> ether_type; }
struct headers_t { ethernet_h eth; pallas_h p; }
struct pair_t { bit<32> lo; bit<32> hi; }

struct meta_t {
    bit<32> window;     // burst window id: the timestamp's bits [k+31 : k]
    bit<32> total;      // group_cfg: wrr_total
    bit<32> t_high;     // time_ns >> 4
    bit<32> t_round;    // time_ns[3]
    bit<32> units;      // (time_ns + 8) >> MON_TIME_SHIFT
    bit<8>  fwd;        // filter verdict: 0 forward, 2 drop
    bit<13> slot_a;     // outstanding index of candidate a: group ++ server
    bit<13> slot_b;
    bit<32> s_a;        // po2 scores
    bit<32> s_b;
    bit<32> w_a;        // weights from po2_pick
    bit<32> w_b;
    bit<32> m;
    bit<8>  server_a;
    bit<8>  server_b;
}

parser IngressParser(packet_in pkt, out headers_t hdr, out meta_t md, out ingress_intrinsic_metadata_t ig_intr_md) {
    state start {
        md = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        pkt.extract(ig_intr_md);
        pkt.advance(PORT_METADATA_SIZE);
        pkt.extract(hdr.eth);
        pkt.extract(hdr.p);
        transition accept;
    }
}

control Ingress(inout headers_t hdr, inout meta_t md, in ingress_intrinsic_metadata_t ig_intr_md,
                in ingress_intrinsic_metadata_from_parser_t ig_prsr_md,
                inout ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md,
                inout ingress_intrinsic_metadata_for_tm_t ig_tm_md) {
    // seq: next; never 0 (starts at 1).
    Register<bit<32>, bit<1>>(1) seq;
    RegisterAction<bit<32>, bit<1>, bit<32>>(seq) seq_next = {
        void apply(inout bit<32> v, out bit<32> rv) {
            rv = v;
            if (v + 1 == 0) { v = 1; } else { v = v + 1; }
        }
    };
    // wrr_counter: return the position, advance, wrap at wrr_total (v + 1 >= total ⇔ v >= total - 1).
    Register<bit<32>, bit<5>>(PALLAS_MAX_GROUPS) wrr_counter;
    RegisterAction<bit<32>, bit<5>, bit<32>>(wrr_counter) wrr_next = {
        void apply(inout bit<32> v, out bit<32> rv) {
            rv = v;
            if (v >= md.total) { v = 0; } else { v = v + 1; }
        }
    };
    // burst: {window, count}; count(w).
    Register<pair_t, bit<5>>(PALLAS_MAX_GROUPS) burst;
    RegisterAction<pair_t, bit<5>, bit<32>>(burst) burst_count = {
        void apply(inout pair_t v, out bit<32> rv) {
            if (v.lo == md.window) { v.hi = v.hi + 1; } else { v.lo = md.window; v.hi = 1; }
            rv = v.hi;
        }
    };
    // outstanding_a/b: read, inc, dec (saturating at 0).
    Register<bit<32>, bit<13>>(PALLAS_MAX_GROUPS * PALLAS_MAX_SERVERS) outstanding_a;
    RegisterAction<bit<32>, bit<13>, bit<32>>(outstanding_a) out_a_read = { void apply(inout bit<32> v, out bit<32> rv) { rv = v; } };
    RegisterAction<bit<32>, bit<13>, bit<32>>(outstanding_a) out_a_dec = { void apply(inout bit<32> v) { if (v > 0) { v = v - 1; } } };
    Register<bit<32>, bit<13>>(PALLAS_MAX_GROUPS * PALLAS_MAX_SERVERS) outstanding_b;
    RegisterAction<bit<32>, bit<13>, bit<32>>(outstanding_b) out_b_read = { void apply(inout bit<32> v, out bit<32> rv) { rv = v; } };
    RegisterAction<bit<32>, bit<13>, bit<32>>(outstanding_b) out_b_inc = { void apply(inout bit<32> v) { v = v + 1; } };
    // filter: {lo, hi} per slot; reply and forget. (Whether a forward evicted a live entry would be
    // a third comparison, which one stateful ALU does not have: only the C++ pipeline counts it.)
    Register<pair_t, bit<16>>(PALLAS_FILTER_SLOTS) filter;
    RegisterAction<pair_t, bit<16>, bit<8>>(filter) filter_reply = {
        void apply(inout pair_t v, out bit<8> rv) {
            if (v.lo == hdr.p.index) { v.lo = v.hi; v.hi = 0; rv = 2; }
            else if (v.hi == hdr.p.index) { v.hi = 0; rv = 2; }
            else { v.hi = v.lo; v.lo = hdr.p.index; rv = 0; }
        }
    };
    RegisterAction<pair_t, bit<16>, bit<8>>(filter) filter_forget = {
        void apply(inout pair_t v) {
            if (v.lo == hdr.p.index) { v.lo = v.hi; v.hi = 0; }
            else if (v.hi == hdr.p.index) { v.hi = 0; }
        }
    };
    // mon: {replies, time units} per type; mon_requests, mon_notices.
    Register<pair_t, bit<8>>(256) mon;
    RegisterAction<pair_t, bit<8>, bit<32>>(mon) mon_record = { void apply(inout pair_t v) { v.lo = v.lo + 1; v.hi = v.hi + md.units; } };
    Register<bit<32>, bit<8>>(256) mon_requests;
    RegisterAction<bit<32>, bit<8>, bit<32>>(mon_requests) mon_request = { void apply(inout bit<32> v) { v = v + 1; } };

    // burst_window: one action per k, chosen by the control plane (here k = 14).
    action window_14() { md.window = ig_intr_md.ingress_mac_tstamp[45:14]; }
    table burst_window { actions = { window_14; } default_action = window_14(); size = 1; }
    action cfg(bit<32> wrr_total_minus_1) { md.total = wrr_total_minus_1; }
    table group_cfg { key = { hdr.p.group: exact; } actions = { cfg; NoAction; } default_action = NoAction(); size = PALLAS_MAX_GROUPS; }
    // Execution time in 16 ns units, rounded: two steps, two stages.
    action round_half() { md.t_high = hdr.p.time_ns >> PALLAS_MON_TIME_SHIFT; md.t_round = (bit<32>)hdr.p.time_ns[3:3]; }
    table t_round { actions = { round_half; } default_action = round_half(); size = 1; }
    action to_units() { md.units = md.t_high + md.t_round; }
    table t_units { actions = { to_units; } default_action = to_units(); size = 1; }
    // po2: the picks' servers and weights (po2_pick_a/b would fill these), the scores, min and equality.
    action pick(bit<8> a, bit<32> wa, bit<8> b, bit<32> wb) { md.server_a = a; md.w_a = wa; md.server_b = b; md.w_b = wb;
        md.slot_a = hdr.p.group[4:0] ++ a; md.slot_b = hdr.p.group[4:0] ++ b; }
    table po2_pick { key = { hdr.p.group: exact; } actions = { pick; NoAction; } default_action = NoAction(); size = PALLAS_MAX_GROUPS; }
    action offset() { md.s_a = md.s_a + 65536; md.s_b = md.s_b + 65536; }
    table t_offset { actions = { offset; } default_action = offset(); size = 1; }
    action minus_weight() { md.s_a = md.s_a - md.w_a; md.s_b = md.s_b - md.w_b; }
    table t_weight { actions = { minus_weight; } default_action = minus_weight(); size = 1; }
    action lower() { md.m = min(md.s_a, md.s_b); }
    table t_min { actions = { lower; } default_action = lower(); size = 1; }

    apply {
        if (hdr.p.flags & PALLAS_FLAG_RESPONSE == 0) {
            // Request path (parts): demand, index, balance, burst.
            mon_request.execute(hdr.p.type);
            hdr.p.index = seq_next.execute(0);
            group_cfg.apply();
            burst_window.apply();
            bit<32> pos = wrr_next.execute(hdr.p.group[4:0]);
            bit<32> n = burst_count.execute(hdr.p.group[4:0]);
            po2_pick.apply();
            md.s_a = out_a_read.execute(md.slot_a);
            md.s_b = out_b_read.execute(md.slot_b);
            t_offset.apply();
            t_weight.apply();
            t_min.apply();
            if (md.m == md.s_a) { hdr.p.server = md.server_a; } else { hdr.p.server = md.server_b; }
            hdr.p.time_ns = pos + n;
        } else {
            // Reply path (parts): outstanding, filter or forget, monitor.
            out_a_dec.execute(hdr.p.group[4:0] ++ hdr.p.server);
            out_b_inc.execute(hdr.p.group[4:0] ++ hdr.p.server);
            if (hdr.p.flags & PALLAS_FLAG_DROP_NOTICE != 0) {
                filter_forget.execute(hdr.p.index[15:0]);
            } else {
                md.fwd = filter_reply.execute(hdr.p.index[15:0]);
                t_round.apply();
                t_units.apply();
                if (md.fwd == 0) { mon_record.execute(hdr.p.type); } else { ig_dprsr_md.drop_ctl = 1; }
            }
        }
        ig_tm_md.ucast_egress_port = 1;
    }
}

control IngressDeparser(packet_out pkt, inout headers_t hdr, in meta_t md, in ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md) {
    apply { pkt.emit(hdr); }
}

parser EgressParser(packet_in pkt, out headers_t hdr, out meta_t md, out egress_intrinsic_metadata_t eg_intr_md) {
    state start {
        md = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        pkt.extract(eg_intr_md);
        transition accept;
    }
}

control Egress(inout headers_t hdr, inout meta_t md, in egress_intrinsic_metadata_t eg_intr_md,
               in egress_intrinsic_metadata_from_parser_t eg_prsr_md, inout egress_intrinsic_metadata_for_deparser_t eg_dprsr_md,
               inout egress_intrinsic_metadata_for_output_port_t eg_oport_md) {
    apply { }
}

control EgressDeparser(packet_out pkt, inout headers_t hdr, in meta_t md, in egress_intrinsic_metadata_for_deparser_t eg_dprsr_md) {
    apply { pkt.emit(hdr); }
}

Pipeline(IngressParser(), Ingress(), IngressDeparser(), EgressParser(), Egress(), EgressDeparser()) pipe;
Switch(pipe) main;

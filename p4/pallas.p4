// Pallas on a Tofino 1 switch (TNA, P4-16): the pipeline of docs/switch-contract.md — workload
// shaping by type, WRR or power-of-two balancing inside a group, burst detection and cloning to
// another group, reply filtering, the monitor — plus forwarding for everything else. One file per
// concern under src/; every size comes from include/pallas_wire.p4, generated from proto/wire.json.
// Build: `npm run p4` (p4/README.md).
#include <core.p4>
#include <tna.p4>

#include "include/pallas_wire.p4"
#include "src/headers.p4"
#include "src/burst.p4"
#include "src/parser.p4"
#include "src/shaper.p4"
#include "src/balance.p4"
#include "src/outstanding.p4"
#include "src/filter.p4"
#include "src/monitor.p4"
#include "src/forward.p4"

// Switch counters (docs/switch-contract.md, "What the control plane reads"), one cell each.
#define EVENT(NAME) Counter<bit<32>, bit<1>>(1, CounterType_t.PACKETS) NAME;

control PallasIngress(inout headers_t hdr, inout ig_md_t md, in ingress_intrinsic_metadata_t ig_intr_md,
                      in ingress_intrinsic_metadata_from_parser_t ig_prsr_md,
                      inout ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md,
                      inout ingress_intrinsic_metadata_for_tm_t ig_tm_md) {
    EVENT(n_requests) EVENT(n_unmapped) EVENT(n_bounced) EVENT(n_cloned) EVENT(n_clone_suppressed)
    EVENT(n_drop_no_server) EVENT(n_po2) EVENT(n_bad_header)

    // seq: next; starts at 1 (the control plane writes it), never 0.
    Register<bit<32>, bit<1>>(1, 1) seq;
    RegisterAction<bit<32>, bit<1>, bit<32>>(seq) seq_next = {
        void apply(inout bit<32> v, out bit<32> rv) {
            rv = v;
            if (v + 1 == 0) { v = 1; } else { v = v + 1; }
        }
    };

    Random<bit<32>>() rng;
    SwitchConfig() switch_config;
    ServerPorts() server_ports;
    Shaper() shaper;
    MonitorRequests() monitor_requests;
    GroupConfig() group_config;
    Counters() counters;
    WrrPick() wrr_pick;
    Po2Pick() po2_pick;
    Po2Choose() po2_choose;
    Outstanding() outstanding;
    BurstWindow() burst_window;
    Burst() burst;
    Forward() forward;

    action slot_of_header() { md.slot_a = hdr.pallas.group[4:0] ++ hdr.pallas.server; md.slot_b = hdr.pallas.group[4:0] ++ hdr.pallas.server; }
    action resubmit_as(bit<8> pass) {
        ig_dprsr_md.resubmit_type = RESUBMIT_TYPE_PASS;
        hdr.resub.setValid();
        hdr.resub.group = md.group;
        hdr.resub.pass = pass;
        hdr.resub.index = hdr.pallas.index;
    }
    action po2_pass() {
        hdr.pallas.flags[1:0] = PALLAS_CLONE_NONE;
        hdr.pallas.index = hdr.resub.index;
    }
    action from_resubmit() {
        md.group = hdr.resub.group;
        md.server = hdr.resub.server;
        md.slot_a = hdr.resub.group[4:0] ++ hdr.resub.server;
        md.slot_b = hdr.resub.group[4:0] ++ hdr.resub.server;
    }
    action from_clone() {
        md.group = hdr.clone.group;
        hdr.clone.setInvalid();
    }
    action use_clone_window() { md.window = hdr.clone.window; }
    // Every Pallas packet the switch sends on has new addresses: IPv4 checksum recomputed, UDP's 0.
    action pallas_rewrite() { md.rewrite = 1; hdr.udp.checksum = 0; }
    action draw() { md.rand = rng.get(); }

    // The stages are few (12 on Tofino 1): every test below reads what the packet is (kind, set
    // first) and values of earlier stages; why a packet drops is a flag set in one place, and the
    // drop is decided once, at the end.
    apply {
        // What the packet is, the parser said (md.kind).
        if (ig_prsr_md.parser_err != 0) { md.bad = 1; }
        // Lookups that read only the packet: done for every packet, used where they apply.
        switch_config.apply(md);
        server_ports.apply(ig_intr_md.ingress_port, md);
        draw();
        // The burst window: this packet's, or (a clone) its original's.
        if (md.kind == KIND_CLONE) { use_clone_window(); } else { burst_window.apply(ig_intr_md.ingress_mac_tstamp, md); }
        if (md.kind != KIND_OTHER) { pallas_rewrite(); }

        // Fresh requests: the demand and the index (request path steps 2 and 4).
        if (md.kind == KIND_FIRST) {
            hdr.pallas.flags[1:0] = PALLAS_CLONE_NONE;  // a client cannot forge a clone
            monitor_requests.apply(hdr.pallas.type);
            if (hdr.pallas.index == 0) { hdr.pallas.index = seq_next.execute(0); }
        } else if (md.kind == KIND_PO2) {
            po2_pass();  // the resubmitted packet is the original as it came in
        }
        // Requests the pipeline takes (fresh, and bounced from a server), once each.
        if (md.kind == KIND_FIRST || (md.kind == KIND_BOUNCE && md.from_server == 1)) {
            n_requests.count(0);
            if (md.unmapped == 1) { n_unmapped.count(0); }
        }
        // The group (step 1: first passes), or the first pass's.
        if (md.kind == KIND_FIRST || md.kind == KIND_BOUNCE) {
            shaper.apply(hdr, md);
        } else if (md.kind == KIND_PO2 || md.kind == KIND_AGAIN) {
            from_resubmit();
        } else if (md.kind == KIND_CLONE) {
            from_clone();
        }
        // Where a reply or a bounce comes from (reply path step 1, request path step 3).
        if (md.kind == KIND_BOUNCE || md.kind == KIND_REPLY) { slot_of_header(); }
        if (md.kind == KIND_FIRST || md.kind == KIND_AGAIN || md.kind == KIND_PO2 || md.kind == KIND_CLONE) {
            group_config.apply(md.group, md);
        }
        if ((md.kind == KIND_BOUNCE || md.kind == KIND_REPLY) && md.from_server == 0) {
            md.bad = 1;  // only a server replies or hands a request back
        }

        // Balance (step 6): a position from a counter and the wrr table, or two po2 candidates.
        if (md.kind == KIND_AGAIN || md.kind == KIND_CLONE || (md.kind == KIND_FIRST && md.po2 == 0)) {
            if (md.kind == KIND_CLONE) { md.use_clone_counter = 1; }
            counters.apply(md.group[4:0], md.use_clone_counter, md);
            wrr_pick.apply(md.group, md);
        } else if (md.kind == KIND_FIRST && md.po2 == 1) {
            n_po2.count(0);
            po2_pick.apply(md.group, md);
        }

        // Burst (step 8): fresh requests in their final pass, and clones in the target group.
        if (md.kind == KIND_PO2 || md.kind == KIND_CLONE || (md.kind == KIND_FIRST && md.po2 == 0)) {
            burst.apply(md.group[4:0], md);
            if (md.c_thres != 0 && md.over[31:31] == 1) {
                if (md.kind == KIND_CLONE) {
                    md.suppressed = 1;  // the target bursts too
                } else if (md.clone_on == 1 && md.clone_target != PALLAS_NO_GROUP) {
                    hdr.pallas.flags[1:0] = PALLAS_CLONE_ORIGINAL;  // the clone bits are flags[1:0]
                    md.mirror_kind = PKT_KIND_CLONE;
                    ig_dprsr_md.mirror_type = MIRROR_TYPE_CLONE;
                }
            }
        }

        // Outstanding counts (steps 3, 6, 7; reply path step 1): −1 for what left a server, +1 for
        // the server a copy goes to, or (po2, first pass) the two candidates' counts. One access.
        if (md.kind == KIND_AGAIN || md.kind == KIND_PO2 || md.kind == KIND_CLONE || (md.kind == KIND_FIRST && md.po2 == 0)) {
            if (md.no_server == 0 && md.no_row == 0 && md.suppressed == 0) { md.out_op = OUT_INC; md.to_server = 1; }
        } else if ((md.kind == KIND_BOUNCE || md.kind == KIND_REPLY) && md.bad == 0) {
            md.out_op = OUT_DEC;
        }
        outstanding.apply(md);

        // Out (step 9), or the second pass.
        if (md.to_server == 1) {
            hdr.pallas.group = md.group;
            if (md.kind == KIND_CLONE) { n_cloned.count(0); }
        } else if (md.kind == KIND_FIRST && md.po2 == 1) {
            po2_choose.apply(hdr, md);
            resubmit_as(KIND_PO2);  // the winner's +1, the burst and the clone are the second pass's
        } else if (md.kind == KIND_BOUNCE && md.bad == 0) {
            n_bounced.count(0);
            resubmit_as(KIND_AGAIN);  // balanced again with the current tables
        }

        // A reply goes out to the client (step 5), from the service address; the egress filters and
        // monitors it (steps 2-4).
        if (md.kind == KIND_REPLY && md.bad == 0) {
            hdr.ipv4.src = md.vip;
            md.bridge_kind = PKT_KIND_REPLY;
        }
        if (md.kind == KIND_OTHER || md.kind == KIND_REPLY || md.to_server == 1) {
            forward.apply(md.to_server, md.server, hdr, md, ig_tm_md);
        }

        // Drop what must not leave, counting why.
        if (md.kind == KIND_BAD || md.bad == 1) { n_bad_header.count(0); }
        // (A clone whose target has no server is suppressed, as in C++; a request without one drops.)
        if (md.suppressed == 1 || (md.kind == KIND_CLONE && (md.no_server == 1 || md.no_row == 1))) {
            n_clone_suppressed.count(0);
        } else if (md.no_server == 1 || md.no_row == 1 || md.no_row_a == 1 || md.no_row_b == 1) {
            n_drop_no_server.count(0);
        }
        if (md.kind == KIND_BAD || md.bad == 1 || md.no_server == 1 || md.no_row == 1 || md.no_row_a == 1 || md.no_row_b == 1 ||
            md.suppressed == 1 || md.no_route == 1) {
            ig_dprsr_md.drop_ctl = 1;
        }
        hdr.bridge.setValid();
        hdr.bridge.kind = md.bridge_kind;
    }
}

control PallasEgress(inout headers_t hdr, inout eg_md_t md, in egress_intrinsic_metadata_t eg_intr_md,
                     in egress_intrinsic_metadata_from_parser_t eg_prsr_md,
                     inout egress_intrinsic_metadata_for_deparser_t eg_dprsr_md,
                     inout egress_intrinsic_metadata_for_output_port_t eg_oport_md) {
    EVENT(n_replies) EVENT(n_replies_filtered) EVENT(n_clone_drop_notices)
    ReplyFilter() reply_filter;
    MonitorNotices() monitor_notices;
    MonitorReplies() monitor_replies;

    // (time_ns + 8) >> 4 without a 32-bit overflow: (time_ns >> 4) plus the rounding bit, time_ns[3].
    action split_time() {
        md.t_high = hdr.pallas.time_ns >> PALLAS_MON_TIME_SHIFT;
        md.t_round = (bit<32>)hdr.pallas.time_ns[PALLAS_MON_TIME_SHIFT - 1:PALLAS_MON_TIME_SHIFT - 1];
    }
    action to_units() { md.units = md.t_high + md.t_round; }

    apply {
        if (hdr.mirror.isValid()) {
            // The copy of a cloned request, on its way to a recirculation port: it becomes the clone.
            hdr.clone.setValid();
            hdr.clone.group = hdr.mirror.group;
            hdr.clone.window = hdr.mirror.window;
            hdr.pallas.flags[1:0] = PALLAS_CLONE_CLONE;
            hdr.pallas.index = hdr.mirror.index;
            hdr.pallas.group = hdr.mirror.group;
        } else if (hdr.bridge.kind == PKT_KIND_REPLY) {
            // Reply path steps 2-4: drop notices, the filter, the monitor.
            n_replies.count(0);
            split_time();
            to_units();
            if ((hdr.pallas.flags & PALLAS_FLAG_DROP_NOTICE) != 0) {
                md.notice = 1;
                if (hdr.pallas.flags[1:0] == PALLAS_CLONE_CLONE) {
                    md.forget = 1;  // the original may still answer
                    md.use_filter = 1;
                } else if (hdr.pallas.flags[1:0] == PALLAS_CLONE_NONE) {
                    monitor_notices.apply(hdr.pallas.type);
                }
            } else if (hdr.pallas.flags[1:0] != PALLAS_CLONE_NONE) {
                md.use_filter = 1;
            }
            if (md.use_filter == 1) { reply_filter.apply(hdr.pallas.index, md.forget, md.verdict); }
            if (md.forget == 1) {
                n_clone_drop_notices.count(0);
                eg_dprsr_md.drop_ctl = 1;
            } else if (md.verdict == VERDICT_DROP) {
                n_replies_filtered.count(0);
                eg_dprsr_md.drop_ctl = 1;
            } else if (md.notice == 0) {
                monitor_replies.apply(hdr.pallas.type, md.units);
            }
        }
    }
}

Pipeline(PallasIngressParser(), PallasIngress(), PallasIngressDeparser(),
         PallasEgressParser(), PallasEgress(), PallasEgressDeparser()) pipe;
Switch(pipe) main;

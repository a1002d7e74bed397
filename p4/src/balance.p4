// Balancing inside a group (request path steps 6-7): WRR over the group's position ranges with a
// per-group counter, or power of two choices over the outstanding counts the switch keeps per
// (group, server), in two copies (outstanding_a, outstanding_b) so that one pass can read two
// servers' counts. A clone draws its position from clone_counter instead of wrr_counter.
#ifndef _PALLAS_BALANCE_P4_
#define _PALLAS_BALANCE_P4_


control Counters(in bit<5> group, in bit<1> use_clone_counter, inout ig_md_t md) {
    // next(total): return v; v ← (v + 1 ≥ total) ? 0 : v + 1, i.e. v ≥ total − 1 wraps.
    Register<bit<32>, bit<5>>(PALLAS_MAX_GROUPS, 0) wrr_counter;
    RegisterAction<bit<32>, bit<5>, bit<32>>(wrr_counter) wrr_next = {
        void apply(inout bit<32> v, out bit<32> rv) {
            rv = v;
            if (v >= md.total_m1) { v = 0; } else { v = v + 1; }
        }
    };
    Register<bit<32>, bit<5>>(PALLAS_MAX_GROUPS, 0) clone_counter;
    RegisterAction<bit<32>, bit<5>, bit<32>>(clone_counter) clone_next = {
        void apply(inout bit<32> v, out bit<32> rv) {
            rv = v;
            if (v >= md.total_m1) { v = 0; } else { v = v + 1; }
        }
    };
    apply {
        if (use_clone_counter == 1) { md.pos = clone_next.execute(group); }
        else { md.pos = wrr_next.execute(group); }
    }
}

control WrrPick(in bit<8> group, inout ig_md_t md) {
    // The server, and its outstanding slot (group ++ server) in the same action.
    action set_server(bit<8> server) { md.server = server; md.slot_a = group[4:0] ++ server; md.slot_b = group[4:0] ++ server; }
    action no_server() { md.no_row = 1; }
    // One row per position: server i of group g owns positions [Σ_{j<i} w_j, Σ_{j≤i} w_j).
    table wrr {
        key = { group: exact; md.pos[15:0]: range @name("position"); }  // wrr_total ≤ 65535 (the C++ pipeline refuses more)
        actions = { set_server; no_server; }
        const default_action = no_server();
        size = PALLAS_WRR_ENTRIES;
    }
    apply { wrr.apply(); }
}

// md.rand: two independent 16-bit draws (PALLAS_PO2_RANDOM_BITS each), made in the first stage.
control Po2Pick(in bit<8> group, inout ig_md_t md) {
    // offset = 65536 − weight (written so by the control plane): the score is outstanding + offset.
    action pick_a(bit<8> server, bit<32> offset) { md.server_a = server; md.off_a = offset; md.slot_a = group[4:0] ++ server; }
    action pick_b(bit<8> server, bit<32> offset) { md.server_b = server; md.off_b = offset; md.slot_b = group[4:0] ++ server; }
    action no_server_a() { md.no_row_a = 1; }
    action no_server_b() { md.no_row_b = 1; }
    table po2_pick_a {
        key = { group: exact; md.rand[15:0]: range @name("rand_a"); }
        actions = { pick_a; no_server_a; }
        const default_action = no_server_a();
        size = PALLAS_WRR_ENTRIES;
    }
    table po2_pick_b {
        key = { group: exact; md.rand[31:16]: range @name("rand_b"); }
        actions = { pick_b; no_server_b; }
        const default_action = no_server_b();
        size = PALLAS_WRR_ENTRIES;
    }
    apply {
        po2_pick_a.apply();
        po2_pick_b.apply();
    }
}

#endif

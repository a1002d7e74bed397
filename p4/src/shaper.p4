// Workload shaper: switch_cfg (the default group, cloning on or off), type_to_group, and the
// group's configuration (docs/switch-contract.md, "Tables"; request path steps 1 and 5).
#ifndef _PALLAS_SHAPER_P4_
#define _PALLAS_SHAPER_P4_

control SwitchConfig(inout ig_md_t md) {
    // vip: the service address; clone_session: the mirror session whose port is a recirculation port.
    action cfg(bit<1> clone_on, bit<32> vip, MirrorId_t clone_session) {
        md.clone_on = clone_on;
        md.vip = vip;
        md.mirror_session = clone_session;
    }
    // Written at start; until then no group exists and requests drop (group_cfg misses).
    table switch_cfg {
        actions = { cfg; }
        default_action = cfg(0, 0, 0);
        size = 1;
    }
    apply { switch_cfg.apply(); }
}

control Shaper(inout headers_t hdr, inout ig_md_t md) {
    action set_group(bit<8> group) { md.group = group; }
    // The default entry: the control plane writes unmapped(default_group) (switch_cfg's default_group
    // in the contract), so that no stage waits for switch_cfg.
    action unmapped(bit<8> group) {
        md.group = group;
        md.unmapped = 1;
    }
    table type_to_group {
        key = { hdr.pallas.type: exact; }
        actions = { set_group; unmapped; }
        default_action = unmapped(PALLAS_NO_GROUP);
        size = 256;
    }

    apply { type_to_group.apply(); }
}

control GroupConfig(in bit<8> group, inout ig_md_t md) {
    // The control plane writes a row only for a group with servers (wrr_total ≥ 1).
    action cfg(bit<32> wrr_total, bit<32> c_thres, bit<8> clone_target, bit<1> balance) {
        md.total_m1 = wrr_total - 1;
        md.c_thres = c_thres;
        md.clone_target = clone_target;
        md.po2 = balance;
    }
    action no_group() { md.no_server = 1; }
    table group_cfg {
        key = { group: exact; }
        actions = { cfg; no_group; }
        const default_action = no_group();
        size = PALLAS_MAX_GROUPS;
    }
    apply { group_cfg.apply(); }
}

#endif

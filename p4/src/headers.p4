// Headers and metadata of the Pallas Tofino program (docs/switch-contract.md). The Pallas header
// itself and every size come from include/pallas_wire.p4, generated from proto/wire.json.
#ifndef _PALLAS_HEADERS_P4_
#define _PALLAS_HEADERS_P4_

#define ETHERTYPE_IPV4 0x0800
#define IP_PROTO_UDP 17

header ethernet_h { bit<48> dst; bit<48> src; bit<16> ether_type; }

header ipv4_h {
    bit<4> version; bit<4> ihl; bit<8> diffserv; bit<16> total_len;
    bit<16> identification; bit<3> flags; bit<13> frag_offset;
    bit<8> ttl; bit<8> protocol; bit<16> hdr_checksum;
    bit<32> src; bit<32> dst;
}

header udp_h { bit<16> src_port; bit<16> dst_port; bit<16> length; bit<16> checksum; }

// What the clone's copy carries from the original's pass to its own (docs/switch-contract.md,
// request path step 8). The ingress mirror prepends it (mirror_h, read by the egress parser);
// the egress turns it into clone_h, which rides in front of Ethernet through the recirculation
// port back into the ingress, where the parser strips it.
#define MIRROR_TYPE_CLONE 1
// The resubmit type of a second pass (po2 winner, bounced request).
#define RESUBMIT_TYPE_PASS 1
// (The mirror header's fields must come from metadata: Tofino's mirror field lists take no constants.)
header mirror_h {
    bit<8>  kind;       // PKT_KIND_CLONE: tells the egress parser a copy from a mirror
    bit<8>  group;      // the clone target h
    bit<32> window;     // the original's burst window id w
    bit<32> index;      // the original's index (the copy is the packet as it came in)
}
header clone_h {
    bit<8>  group;
    bit<32> window;          // this packet's window id (a clone: the original's)
}

// po2: the winner of the first pass, for the second (resubmit data: 64 bits on Tofino 1).
// A bounced request makes two passes too (its −1 and its new +1 are two accesses to one register).
header resubmit_h {
    bit<8>  group;
    bit<8>  server;
    bit<8>  pass;       // KIND_PO2 or KIND_AGAIN
    bit<8>  pad;
    bit<32> index;
}

#define PKT_KIND_NORMAL 0
#define PKT_KIND_CLONE 1
#define PKT_KIND_REPLY 2
// Bridged to the egress of every packet the ingress forwards.
header bridge_h {
    bit<8> kind;        // PKT_KIND_NORMAL, or PKT_KIND_REPLY: a server's reply or notice, for the egress's filter and monitor
}

struct headers_t {
    resubmit_h resub;        // a resubmitted pass's data (never emitted with the packet)
    mirror_h   mirror;       // egress: a mirrored copy's (never emitted)
    bridge_h   bridge;
    clone_h    clone;
    ethernet_h eth;
    ipv4_h     ipv4;
    udp_h      udp;
    pallas_h   pallas;
}

// What a packet is, in its ingress pass.
#define KIND_OTHER  0   // not Pallas: plain forwarding
#define KIND_FIRST  1   // a client's request
#define KIND_BOUNCE 2   // a request a server handed back: its −1, then a resubmit
#define KIND_AGAIN  3   // the bounced request's second pass: balanced again (WRR)
#define KIND_PO2    4   // a po2 request's second pass: the winner's +1, burst, clone
#define KIND_CLONE  5   // a clone's copy, back from the recirculation port
#define KIND_REPLY  6   // a reply or a drop notice from a server
#define KIND_BAD    7   // a malformed Pallas header: dropped and counted

struct ig_md_t {
    bit<8>  kind;
    bit<8>  group;           // g: the request's group (or the clone's target)
    bit<8>  server;          // the server chosen
    bit<1>  fresh;           // neither bounced nor cloned
    bit<1>  from_server;     // came in on a port the server table names
    bit<8>  pass;            // a second pass: KIND_PO2 or KIND_AGAIN (resubmitted), KIND_CLONE (recirculated)
    // why a packet drops (each set in one place; the drop is decided at the end of the pass)
    bit<1>  no_server;       // no group, or an unknown server
    bit<1>  no_row;          // no wrr row for the position
    bit<1>  no_row_a;        // no po2_pick rows
    bit<1>  no_row_b;
    bit<1>  no_route;
    bit<1>  suppressed;      // a clone whose target bursts too
    bit<1>  bad;             // malformed, or a reply/bounce not from a server
    // switch_cfg
    bit<1>  unmapped;
    bit<1>  clone_on;
    // group_cfg
    bit<32> total_m1;        // wrr_total − 1: the counter wraps when v ≥ total − 1
    bit<32> c_thres;
    bit<8>  clone_target;
    bit<1>  po2;
    // balancing
    bit<1>  wrr;             // balanced by a counter and the wrr table in this pass
    bit<1>  use_clone_counter;
    bit<32> pos;             // WRR position
    bit<32> rand;            // [15:0] draws candidate a, [31:16] candidate b
    bit<8>  server_a;
    bit<8>  server_b;
    bit<32> off_a;           // 65536 − weight of candidate a
    bit<32> off_b;
    bit<32> s_a;             // po2 scores: outstanding + 65536 − weight
    bit<32> s_b;
    bit<32> s_min;
    bit<2>  out_op;          // OUT_READ, OUT_INC, OUT_DEC
    bit<13> slot_a;          // outstanding index: group[4:0] ++ server
    bit<13> slot_b;
    // burst
    bit<32> t_ns8;           // ingress_mac_tstamp[39:8]
    bit<32> window;          // this packet's window id
    bit<32> clone_window;    // a clone's: the original's window id
    bit<32> n;               // requests of the group in this window, this one included
    bit<32> over;            // c_thres − n: negative (bit 31) when the group bursts
    // forwarding
    bit<1>  to_server;       // a request to send to md.server
    bit<8>  bridge_kind;     // what the egress is told: PKT_KIND_NORMAL or PKT_KIND_REPLY
    bit<1>  l3_hit;
    bit<1>  rewrite;         // the addresses were rewritten: IPv4 checksum to recompute
    bit<32> vip;             // the service address clients send requests to (replies leave from it)
    MirrorId_t mirror_session;
    bit<8>  mirror_kind;     // PKT_KIND_CLONE, for the mirror header
}

struct eg_md_t {
    bit<1>  notice;          // a drop notice
    bit<1>  forget;          // a clone's drop notice: the filter forgets its index
    bit<1>  use_filter;
    bit<8>  verdict;         // reply filter: VERDICT_FORWARD or VERDICT_DROP
    bit<32> t_high;          // time_ns >> MON_TIME_SHIFT
    bit<32> t_round;         // time_ns's bit MON_TIME_SHIFT − 1 (the rounding)
    bit<32> units;           // (time_ns + 8) >> MON_TIME_SHIFT, computed without overflow
}

#endif

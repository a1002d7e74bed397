// Parsers and deparsers. Ingress: the resubmitted po2 pass brings its data in place of the port
// metadata; a clone's copy comes back through a recirculation port with clone_h in front of
// Ethernet (the ports are a parser value set the control plane writes); Ethernet, IPv4 without
// options, UDP, and the Pallas header on PALLAS_UDP_PORT. Egress: a mirrored copy (mirror_h) or a
// forwarded packet (bridge_h), told apart by their first byte.
#ifndef _PALLAS_PARSER_P4_
#define _PALLAS_PARSER_P4_

// md is zeroed before the parser runs (@pa_auto_init_metadata in pallas.p4), so the frontend's
// "may be uninitialized" does not apply to it.
parser PallasIngressParser(packet_in pkt, out headers_t hdr, out ig_md_t md, out ingress_intrinsic_metadata_t ig_intr_md) {
    value_set<bit<9>>(4) recirc_ports;

    state start {
        md = { kind = KIND_OTHER, ... };  // every other field 0
        pkt.extract(ig_intr_md);
        transition select(ig_intr_md.resubmit_flag) {
            1: parse_resubmit;
            default: parse_port_metadata;
        }
    }
    // A second pass: what it is was decided in the first (the resubmit data) or by where it comes
    // from (a recirculation port: a clone); its flags are not classified again.
    state parse_resubmit {
        pkt.extract(hdr.resub);
        md.kind = hdr.resub.pass;
        transition second_ethernet;
    }
    state parse_port_metadata {
        pkt.advance(PORT_METADATA_SIZE);
        transition select(ig_intr_md.ingress_port) {
            recirc_ports: parse_clone;
            default: parse_ethernet;
        }
    }
    state parse_clone {
        pkt.extract(hdr.clone);
        md.kind = KIND_CLONE;
        transition second_ethernet;
    }
    state second_ethernet { pkt.extract(hdr.eth); transition second_ipv4; }
    state second_ipv4 { pkt.extract(hdr.ipv4); transition second_udp; }
    state second_udp { pkt.extract(hdr.udp); transition second_pallas; }
    state second_pallas { pkt.extract(hdr.pallas); transition accept; }

    state parse_ethernet {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.ether_type) {
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }
    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        transition select(hdr.ipv4.ihl, hdr.ipv4.frag_offset, hdr.ipv4.protocol) {
            (5, 0, IP_PROTO_UDP): parse_udp;
            default: accept;
        }
    }
    state parse_udp {
        pkt.extract(hdr.udp);
        transition select(hdr.udp.dst_port, hdr.udp.src_port) {
            (PALLAS_UDP_PORT, _): parse_pallas;
            (_, PALLAS_UDP_PORT): parse_pallas;
            default: accept;
        }
    }
    // What a packet from a port is, from its magic and flags (RESPONSE 0x04, BOUNCED 0x08,
    // reserved 0xE0).
    state parse_pallas {
        pkt.extract(hdr.pallas);
        transition select(hdr.pallas.magic_version, hdr.pallas.flags) {
            (PALLAS_MAGIC_VERSION, 0x04 &&& 0xE4): is_reply;
            (PALLAS_MAGIC_VERSION, 0x08 &&& 0xEC): is_bounce;
            (PALLAS_MAGIC_VERSION, 0x00 &&& 0xEC): is_request;
            default: is_bad;
        }
    }
    state is_reply { md.kind = KIND_REPLY; transition accept; }
    state is_bounce { md.kind = KIND_BOUNCE; transition accept; }
    state is_request { md.kind = KIND_FIRST; transition accept; }
    state is_bad { md.kind = KIND_BAD; transition accept; }
}

control PallasIngressDeparser(packet_out pkt, inout headers_t hdr, in ig_md_t md,
                              in ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md) {
    Checksum() ipv4_csum;
    Mirror() mirror;
    Resubmit() resubmit;
    apply {
        if (md.rewrite == 1) {
            hdr.ipv4.hdr_checksum = ipv4_csum.update({
                hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.diffserv, hdr.ipv4.total_len,
                hdr.ipv4.identification, hdr.ipv4.flags, hdr.ipv4.frag_offset,
                hdr.ipv4.ttl, hdr.ipv4.protocol, hdr.ipv4.src, hdr.ipv4.dst });
        }
        if (ig_dprsr_md.mirror_type == MIRROR_TYPE_CLONE) {
            mirror.emit<mirror_h>(md.mirror_session, { md.mirror_kind, md.clone_target, md.window, hdr.pallas.index });
        }
        if (ig_dprsr_md.resubmit_type == RESUBMIT_TYPE_PASS) {
            resubmit.emit(hdr.resub);
        }
        pkt.emit(hdr);
    }
}

parser PallasEgressParser(packet_in pkt, out headers_t hdr, out eg_md_t md, out egress_intrinsic_metadata_t eg_intr_md) {
    state start {
        md = { notice = 0, ... };
        pkt.extract(eg_intr_md);
        transition select(pkt.lookahead<bit<8>>()) {
            PKT_KIND_CLONE: parse_mirror;
            default: parse_bridge;
        }
    }
    state parse_mirror {
        pkt.extract(hdr.mirror);
        transition parse_ethernet;
    }
    state parse_bridge {
        pkt.extract(hdr.bridge);
        transition parse_ethernet;
    }
    state parse_ethernet {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.ether_type) {
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }
    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        transition select(hdr.ipv4.ihl, hdr.ipv4.frag_offset, hdr.ipv4.protocol) {
            (5, 0, IP_PROTO_UDP): parse_udp;
            default: accept;
        }
    }
    state parse_udp {
        pkt.extract(hdr.udp);
        transition select(hdr.udp.dst_port, hdr.udp.src_port) {
            (PALLAS_UDP_PORT, _): parse_pallas;
            (_, PALLAS_UDP_PORT): parse_pallas;
            default: accept;
        }
    }
    state parse_pallas {
        pkt.extract(hdr.pallas);
        transition accept;
    }
}

control PallasEgressDeparser(packet_out pkt, inout headers_t hdr, in eg_md_t md,
                             in egress_intrinsic_metadata_for_deparser_t eg_dprsr_md) {
    apply {
        pkt.emit(hdr.clone);
        pkt.emit(hdr.eth);
        pkt.emit(hdr.ipv4);
        pkt.emit(hdr.udp);
        pkt.emit(hdr.pallas);
    }
}

#endif

// Forwarding: the server table (server id → port, MAC, IPv4, for requests the pipeline balanced),
// the ports servers are behind (only a server replies or bounces), and plain forwarding for
// replies to clients and for traffic that is not Pallas: IPv4 host routes, then Ethernet.
#ifndef _PALLAS_FORWARD_P4_
#define _PALLAS_FORWARD_P4_

control ServerPorts(in PortId_t port, inout ig_md_t md) {
    action server_port() { md.from_server = 1; }
    table server_ports {
        key = { port: exact; }
        actions = { server_port; NoAction; }
        const default_action = NoAction();
        size = PALLAS_MAX_SERVERS;
    }
    apply { server_ports.apply(); }
}

// Requests go to the server the pipeline chose; replies and everything else by destination.
control Forward(in bit<1> to_server, in bit<8> server, inout headers_t hdr, inout ig_md_t md,
                inout ingress_intrinsic_metadata_for_tm_t ig_tm_md) {
    action to_server_port(PortId_t port, bit<48> mac, bit<32> ipv4) {
        ig_tm_md.ucast_egress_port = port;
        hdr.eth.dst = mac;
        hdr.ipv4.dst = ipv4;
    }
    action unknown_server() { md.no_server = 1; }
    table servers {
        key = { server: exact; }
        actions = { to_server_port; unknown_server; }
        const default_action = unknown_server();
        size = PALLAS_MAX_SERVERS;
    }
    action l3(PortId_t port, bit<48> mac) {
        ig_tm_md.ucast_egress_port = port;
        hdr.eth.dst = mac;
        md.l3_hit = 1;
    }
    action l3_miss() { md.l3_hit = 0; }
    table ipv4_host {
        key = { hdr.ipv4.dst: exact; }
        actions = { l3; l3_miss; }
        const default_action = l3_miss();
        size = 4096;
    }
    action l2(PortId_t port) { ig_tm_md.ucast_egress_port = port; }
    action l2_miss() { md.no_route = 1; }
    table eth_host {
        key = { hdr.eth.dst: exact; }
        actions = { l2; l2_miss; }
        const default_action = l2_miss();
        size = 4096;
    }
    apply {
        if (to_server == 1) {
            servers.apply();
        } else {
            if (hdr.ipv4.isValid()) { ipv4_host.apply(); }
            if (md.l3_hit == 0) { eth_host.apply(); }
        }
    }
}

#endif

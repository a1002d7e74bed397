"""Replays the shared switch vectors (p4/vectors/*.json) on the Tofino model or a switch.

Each vector names the program entries to install (its `p4Entries`, computed by lib/switch/p4-entries.ts
from the vector's tables, the same entries the BFRuntime driver writes), the packets to send, what the
C++ pipeline (the reference) did with each, and the registers and counters it left. This test installs
the entries, sends each packet from a client or a server port, checks where it comes out with which
Pallas header, and reads the registers back.

Runs only where an SDE is installed (see p4/README.md):
    $SDE/run_tofino_model.sh -p pallas --arch tofino
    $SDE/run_switchd.sh -p pallas
    $SDE/run_p4_tests.sh -p pallas -t <repo>/p4/ptf --test-params "vectors='<repo>/p4/vectors'"

Ports (test params, defaults for the model's veth pairs): client_port=0, server_ports="1,2,3,4,5,6,7,8"
(server id i is behind server_ports[i mod len]), recirc_port=68 (the pipe-0 recirculation port on
Tofino 1). Vectors whose `timing` is "ns" need arrival times the model's clock cannot be told: they are
skipped here, and their behaviour is checked against the C++ pipeline only. "one-window" vectors run
with the vector's own tauShift; the test reads the burst windows before and after and retries once if
a window turned during the vector.
"""

import glob
import json
import os
import struct

import ptf.testutils as testutils
from ptf.packet import Ether, IP, UDP, Raw
from bfruntime_client_base_tests import BfRuntimeTest
import bfrt_grpc.client as client

PALLAS_UDP_PORT = 9011
MAGIC_VERSION = 0xA1
RESPONSE = 0x04
CLIENT_IP = "10.0.0.100"
CLIENT_MAC = "00:00:00:00:00:64"
SWITCH_MAC = "00:00:00:00:00:fe"
VIP = "10.0.0.1"  # p4/vectors/generate.mjs: SETUP.vip


def server_ip(i):
    return "10.0.1.%d" % (i + 1)


def server_mac(i):
    return "00:00:00:00:01:%02x" % (i & 0xFF)


def pallas_header(type_, flags, group=0, server=0, index=0, time_ns=0, req_id=0):
    return struct.pack("!BBBBBBIIII", MAGIC_VERSION, type_, flags, group, server, 0, index, time_ns, req_id, 0)


def packet(src_mac, dst_mac, src_ip, dst_ip, sport, dport, header):
    return Ether(src=src_mac, dst=dst_mac) / IP(src=src_ip, dst=dst_ip) / UDP(sport=sport, dport=dport, chksum=0) / Raw(header + b"\x00" * 4)


class VectorTest(BfRuntimeTest):
    def setUp(self):
        BfRuntimeTest.setUp(self, 0, "pallas")
        self.bfrt_info = self.interface.bfrt_info_get("pallas")
        self.target = client.Target(device_id=0, pipe_id=0xFFFF)
        params = testutils.test_params_get()
        self.vector_dir = params.get("vectors", os.path.join(os.path.dirname(__file__), "..", "vectors"))
        self.client_port = int(params.get("client_port", 0))
        self.server_ports = [int(p) for p in str(params.get("server_ports", "1,2,3,4,5,6,7,8")).split(",")]
        self.recirc_port = int(params.get("recirc_port", 68))

    def port_of(self, server):
        return self.server_ports[server % len(self.server_ports)]

    def table(self, name):
        return self.bfrt_info.table_get("pipe." + name)

    def key_of(self, t, key):
        fields = []
        for name, v in sorted(key.items()):
            if isinstance(v, dict):
                fields.append(client.KeyTuple(name, low=v["low"], high=v["high"]))
            else:
                fields.append(client.KeyTuple(name, v))
        return t.make_key(fields)

    def clear(self):
        for name in ["PallasIngress.shaper.type_to_group", "PallasIngress.group_config.group_cfg", "PallasIngress.wrr_pick.wrr",
                     "PallasIngress.po2_pick.po2_pick_a", "PallasIngress.po2_pick.po2_pick_b", "PallasIngress.forward.servers",
                     "PallasIngress.server_ports.server_ports", "PallasIngress.forward.ipv4_host"]:
            self.table(name).entry_del(self.target)
        for name in ["PallasIngress.counters.wrr_counter", "PallasIngress.counters.clone_counter", "PallasIngress.burst.burst",
                     "PallasIngress.outstanding.outstanding_a", "PallasIngress.outstanding.outstanding_b",
                     "PallasEgress.reply_filter.filter", "PallasEgress.monitor_replies.mon", "PallasEgress.monitor_notices.mon_notices",
                     "PallasIngress.monitor_requests.mon_requests"]:
            self.table(name).entry_del(self.target)  # a register's "delete" clears it

    def install(self, v):
        self.clear()
        for e in v["p4Entries"]:
            t = self.table(e["table"])
            if e["action"] is None:  # a register write
                data = t.make_data([client.DataTuple(k, val) for k, val in e["data"].items()])
                t.entry_mod(self.target, [self.key_of(t, e["key"])], [data])
                continue
            data = t.make_data([client.DataTuple(k, val) for k, val in e["data"].items()], e["action"])
            if e.get("isDefault"):
                t.default_entry_set(self.target, data)
            else:
                t.entry_add(self.target, [self.key_of(t, e["key"])], [data])
        seq = self.table("PallasIngress.seq")
        seq.entry_mod(self.target, [seq.make_key([client.KeyTuple("$REGISTER_INDEX", 0)])],
                      [seq.make_data([client.DataTuple("PallasIngress.seq.f1", v.get("seq", 1))])])
        # Deployment: server ids to ports and addresses, the ports servers are behind, the client's route,
        # the recirculation port for clones.
        servers = sorted({e["server"] for g in v["tables"]["groups"] for e in g["wrr"]} | {s["reply"]["server"] for s in v["steps"] if "reply" in s})
        t = self.table("PallasIngress.forward.servers")
        for s in servers:
            t.entry_add(self.target, [t.make_key([client.KeyTuple("server", s)])],
                        [t.make_data([client.DataTuple("port", self.port_of(s)), client.DataTuple("mac", client.mac_to_bytes(server_mac(s))),
                                      client.DataTuple("ipv4", client.ipv4_to_bytes(server_ip(s)))], "PallasIngress.forward.to_server_port")])
        t = self.table("PallasIngress.server_ports.server_ports")
        for p in sorted(set(self.port_of(s) for s in servers)):
            t.entry_add(self.target, [t.make_key([client.KeyTuple("port", p)])], [t.make_data([], "PallasIngress.server_ports.server_port")])
        t = self.table("PallasIngress.forward.ipv4_host")
        t.entry_add(self.target, [t.make_key([client.KeyTuple("hdr.ipv4.dst", client.ipv4_to_bytes(CLIENT_IP))])],
                    [t.make_data([client.DataTuple("port", self.client_port), client.DataTuple("mac", client.mac_to_bytes(CLIENT_MAC))],
                                 "PallasIngress.forward.l3")])
        vs = self.table("PallasIngressParser.recirc_ports")
        vs.entry_add(self.target, [vs.make_key([client.KeyTuple("f1", self.recirc_port, 0x1FF)])])
        mirror = self.bfrt_info.table_get("$mirror.cfg")
        mirror.entry_add(self.target, [mirror.make_key([client.KeyTuple("$sid", 1)])],
                         [mirror.make_data([client.DataTuple("$direction", str_val="INGRESS"), client.DataTuple("$ucast_egress_port", self.recirc_port),
                                            client.DataTuple("$ucast_egress_port_valid", bool_val=True), client.DataTuple("$session_enable", bool_val=True)],
                                           "$normal")])

    def register(self, name, index):
        t = self.table(name)
        resp = t.entry_get(self.target, [t.make_key([client.KeyTuple("$REGISTER_INDEX", index)])], {"from_hw": True})
        data, _ = next(resp)
        return data.to_dict()

    def step(self, s):
        e = s["expect"]
        if "request" in s:
            r = s["request"]
            hdr = pallas_header(r["type"], r.get("flags", 0), r.get("group", 0), r.get("server", 0), r.get("index", 0))
            from_server = r.get("flags", 0) & 0x08
            port = self.port_of(r.get("server", 0)) if from_server else self.client_port
            testutils.send_packet(self, port, packet(CLIENT_MAC, SWITCH_MAC, CLIENT_IP, VIP, 40000, PALLAS_UDP_PORT, hdr))
            if e.get("dropped"):
                testutils.verify_no_other_packets(self)
                return
            for out in [e["out"]] + ([e["clone"]] if "clone" in e else []):
                want = pallas_header(r["type"], out["flags"], out["group"], r.get("server", 0) if from_server else 0, out["index"])
                exp = packet(CLIENT_MAC, server_mac(out["server"]), CLIENT_IP, server_ip(out["server"]), 40000, PALLAS_UDP_PORT, want)
                testutils.verify_packet(self, exp, self.port_of(out["server"]))
        else:
            r = s["reply"]
            hdr = pallas_header(r["type"], r["flags"], r["group"], r["server"], r["index"], r["timeNs"])
            testutils.send_packet(self, self.port_of(r["server"]), packet(server_mac(r["server"]), SWITCH_MAC, server_ip(r["server"]), CLIENT_IP, PALLAS_UDP_PORT, 40000, hdr))
            if e["forward"]:
                exp = packet(server_mac(r["server"]), CLIENT_MAC, VIP, CLIENT_IP, PALLAS_UDP_PORT, 40000, hdr)
                testutils.verify_packet(self, exp, self.client_port)
            else:
                testutils.verify_no_other_packets(self)

    def runTest(self):
        paths = sorted(glob.glob(os.path.join(self.vector_dir, "*.json")))
        self.assertTrue(paths, "no vectors in %s" % self.vector_dir)
        for path in paths:
            with open(path) as f:
                v = json.load(f)
            if v["timing"] != "one-window":
                print("skip %s: needs exact arrival times (checked against the C++ pipeline)" % v["name"])
                continue
            for attempt in range(2):
                self.install(v)
                groups = len(v["tables"]["groups"])
                before = [self.register("PallasIngress.burst.burst", g) for g in range(groups)]
                for s in v["steps"]:
                    self.step(s)
                after = [self.register("PallasIngress.burst.burst", g) for g in range(groups)]
                turned = any(b.get("PallasIngress.burst.burst.lo") not in (0, a.get("PallasIngress.burst.burst.lo"))
                             for b, a in zip(before, after))
                if not turned:
                    break
            regs = v["after"]["registers"]
            for g in range(groups):
                self.assertEqual(self.register("PallasIngress.burst.burst", g)["PallasIngress.burst.burst.hi"][0], regs["burstCount"][g], v["name"])
                self.assertEqual(self.register("PallasIngress.counters.wrr_counter", g)["PallasIngress.counters.wrr_counter.f1"][0], regs["wrrCounter"][g], v["name"])
                self.assertEqual(self.register("PallasIngress.counters.clone_counter", g)["PallasIngress.counters.clone_counter.f1"][0], regs["cloneCounter"][g], v["name"])
            for o in regs["outstanding"]:
                slot = (o["group"] << 8) | o["server"]
                self.assertEqual(self.register("PallasIngress.outstanding.outstanding_a", slot)["PallasIngress.outstanding.outstanding_a.f1"][0], o["value"], v["name"])
            self.assertEqual(self.register("PallasIngress.seq", 0)["PallasIngress.seq.f1"][0], regs["seq"], v["name"])
            for m in v["after"]["monitor"]:
                mon = self.register("PallasEgress.monitor_replies.mon", m["type"])
                self.assertEqual(mon["PallasEgress.monitor_replies.mon.lo"][0], m["replies"], v["name"])
                self.assertEqual(mon["PallasEgress.monitor_replies.mon.hi"][0], m["timeUnits"], v["name"])
                self.assertEqual(self.register("PallasIngress.monitor_requests.mon_requests", m["type"])["PallasIngress.monitor_requests.mon_requests.f1"][0], m["requests"], v["name"])
                self.assertEqual(self.register("PallasEgress.monitor_notices.mon_notices", m["type"])["PallasEgress.monitor_notices.mon_notices.f1"][0], m["notices"], v["name"])

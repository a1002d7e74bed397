// A testbed: the switch, the servers and the clients of a real rack, and how to reach them. Read
// from the ansible inventory of deploy/ansible (fromAnsible; docs/testbed.md lists the variables)
// into the form below, which the bench drives (`npm run bench -- <workload> --testbed FILE`).
// normaliseInventory validates that form; it was also the file format before the ansible
// inventory replaced it, and `pallas inventory convert` turns such a file into one (toAnsible).
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

import { bad, int, ipv4, list, mac, obj, oneOf, only, readConfigFile, str, strList, type Obj } from '../config.js';
import { PallasError } from '../errors.js';
import { defaultEalFor, type TransportConfig } from '../io/transport.js';
import { packageRoot } from '../native.js';

/** A NIC for DPDK: a PCI address (probed with -a) or a vdev spec ("net_af_xdp0,iface=eth1"). */
export interface NicSpec {
  device: string;
  peerMac?: string;
  eal?: string[];
}

export interface HostSpec {
  /** How the bench reaches the host (ssh destination; ignored with connection: local). */
  host: string;
  /** The data-plane address: where the host's requests and replies go. */
  address: string;
  /** Where its HTTP endpoints listen (control plane, agent), reachable from the other hosts and the bench. */
  manage: string;
  nic?: NicSpec;
}

export interface SwitchHost extends HostSpec {
  kind: 'soft' | 'tofino';
  port: number;
  controlPort: number;
}
export interface ServerHost extends HostSpec {
  port: number;
  workers: number;
  cores?: number[];
}
export type ClientHost = HostSpec;

export interface Inventory {
  file: string;
  connection: 'ssh' | 'local';
  ssh: { user?: string; port?: number; identity?: string; options: string[] };
  /** The built Pallas checkout on every host, and the Node that runs it. */
  pallas: string;
  node: string;
  secret?: string;
  switch: SwitchHost;
  servers: ServerHost[];
  clients: ClientHost[];
}

function nic(v: unknown, path: string): NicSpec | undefined {
  if (v === undefined || v === 'kernel') return undefined;
  const o = obj(v, path);
  only(o, path, ['device', 'peerMac', 'eal']);
  const device = str(o, 'device', path);
  const peer = o.peerMac === undefined ? undefined : mac(o, 'peerMac', path);
  return { device, ...(peer ? { peerMac: peer } : {}), ...(o.eal !== undefined ? { eal: strList(o, 'eal', path, []) } : {}) };
}

function hostOf(o: Obj, path: string): HostSpec {
  const address = ipv4(o, 'address', path);
  const n = nic(o.nic, `${path}.nic`);
  return { host: str(o, 'host', path, address), address, manage: ipv4(o, 'manage', path, address), ...(n ? { nic: n } : {}) };
}

/**
 * The transport a host's process opens: kernel UDP on its address, or DPDK on its NIC. A PCI NIC
 * is allowed in to EAL with -a (EAL's other defaults stay: no hugepages needed); a vdev is
 * hot-plugged by the transport. `eal` in the inventory replaces the arguments whole.
 */
export function transportFor(h: HostSpec, port: number): TransportConfig {
  if (!h.nic) return { kind: 'udp', bindIp: h.address, port };
  const eal = h.nic.eal ?? defaultEalFor(h.nic.device);
  return {
    kind: 'dpdk',
    device: h.nic.device,
    ip: h.address,
    udpPort: port || 9000,
    eal,
    ...(h.nic.peerMac ? { peerMac: h.nic.peerMac } : {}),
  };
}

export function normaliseInventory(v: unknown, file = 'inventory'): Inventory {
  const o = obj(v, 'inventory');
  only(o, 'inventory', ['connection', 'ssh', 'pallas', 'node', 'secret', 'switch', 'servers', 'clients']);
  const connection = oneOf(o, 'connection', 'inventory', ['ssh', 'local'] as const, 'ssh');
  const so = o.ssh === undefined ? {} : obj(o.ssh, 'inventory.ssh');
  only(so, 'inventory.ssh', ['user', 'port', 'identity', 'options']);
  const identity = so.identity === undefined ? undefined : str(so, 'identity', 'inventory.ssh').replace(/^~(?=\/)/, homedir());
  const ssh = {
    ...(so.user !== undefined ? { user: str(so, 'user', 'inventory.ssh') } : {}),
    ...(so.port !== undefined ? { port: int(so, 'port', 'inventory.ssh', 1, 65535) } : {}),
    ...(identity ? { identity: isAbsolute(identity) ? identity : resolve(identity) } : {}),
    options: strList(so, 'options', 'inventory.ssh', []),
  };
  const pallas = str(o, 'pallas', 'inventory', packageRoot);
  if (!isAbsolute(pallas)) bad('inventory.pallas', `must be an absolute path (the Pallas checkout on every host), not '${pallas}'`);
  const secret = o.secret === undefined ? undefined : str(o, 'secret', 'inventory');
  if (secret !== undefined && secret.length < 16) bad('inventory.secret', 'must be at least 16 characters');

  const swo = obj(o.switch, 'inventory.switch');
  only(swo, 'inventory.switch', ['kind', 'host', 'address', 'manage', 'nic', 'port', 'controlPort']);
  const kind = oneOf(swo, 'kind', 'inventory.switch', ['soft', 'tofino'] as const, 'soft');
  if (kind === 'tofino') {
    bad(
      'inventory.switch.kind',
      'the testbed bench starts a software switch on the switch host; with a Tofino, run pallas control ' +
        'with switch: { kind: tofino } (docs/tofino.md) and the agents yourself; use kind: soft here',
    );
  }
  const sw: SwitchHost = {
    ...hostOf(swo, 'inventory.switch'),
    kind,
    port: int(swo, 'port', 'inventory.switch', 1, 65535, 9010),
    controlPort: int(swo, 'controlPort', 'inventory.switch', 1, 65535, 9020),
  };

  const servers = list(o, 'servers', 'inventory').map((s, i): ServerHost => {
    const p = `inventory.servers[${i}]`;
    const so2 = obj(s, p);
    only(so2, p, ['host', 'address', 'manage', 'nic', 'port', 'cores']);
    let workers: number, cores: number[] | undefined;
    if (Array.isArray(so2.cores)) {
      cores = so2.cores.map((c, j) => {
        if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 4095) bad(`${p}.cores[${j}]`, 'must be a CPU number');
        return c;
      });
      if (cores.length === 0 || new Set(cores).size !== cores.length) bad(`${p}.cores`, 'must list distinct CPUs, one per worker');
      workers = cores.length;
    } else {
      workers = int(so2, 'cores', p, 1, 1024);
    }
    return { ...hostOf(so2, p), port: int(so2, 'port', p, 1, 65535, 9101), workers, ...(cores ? { cores } : {}) };
  });
  const seen = new Set<string>();
  servers.forEach((s, i) => {
    const k = `${s.address}:${s.port}`;
    if (seen.has(k) || k === `${sw.address}:${sw.port}`) bad(`inventory.servers[${i}]`, `${k} is used twice`);
    seen.add(k);
  });
  if (servers.length > 254) bad('inventory.servers', 'at most 254 servers');
  const clients = list(o, 'clients', 'inventory').map((c, i) => {
    const p = `inventory.clients[${i}]`;
    const co = obj(c, p);
    only(co, p, ['host', 'address', 'manage', 'nic']);
    return hostOf(co, p);
  });
  return {
    file,
    connection,
    ssh,
    pallas,
    node: str(o, 'node', 'inventory', connection === 'local' ? process.execPath : 'node'),
    ...(secret ? { secret } : {}),
    switch: sw,
    servers,
    clients,
  };
}

/** Whether a parsed YAML document is an ansible inventory (deploy/ansible/inventory/example.yml). */
export function isAnsibleInventory(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'all' in v && Object.keys(v).every((k) => k === 'all');
}

const ANSIBLE_FIELDS: Record<string, string> = {
  address: 'pallas_address',
  manage: 'pallas_manage',
  nic: 'pallas_nic',
  cores: 'pallas_worker_cores',
  host: 'ansible_host',
  port: 'pallas_server_port',
  kind: 'pallas_switch_kind',
  controlPort: 'pallas_control_port',
};

/**
 * The testbed an ansible inventory describes (deploy/ansible: groups pallas_switch, pallas_servers,
 * pallas_clients; the pallas_* host variables), in this module's form, validated by the same rules.
 * Variables resolve as ansible resolves them here: all's vars, then the group's, then the host's.
 * A malformed field is reported with the host's name and the inventory variable.
 */
export function fromAnsible(v: unknown, file = 'inventory'): Inventory {
  const root = obj(obj(v, 'inventory').all, 'inventory.all');
  const allVars: Obj = root.vars === undefined ? {} : obj(root.vars, 'inventory.all.vars');
  const children: Obj = root.children === undefined ? {} : obj(root.children, 'inventory.all.children');
  const hostsOf = (group: string): { name: string; vars: Obj }[] => {
    if (children[group] === undefined) return [];
    const g = obj(children[group], `inventory.all.children.${group}`);
    const gv: Obj = g.vars === undefined ? {} : obj(g.vars, `${group}.vars`);
    const hs: Obj = g.hosts === undefined || g.hosts === null ? {} : obj(g.hosts, `${group}.hosts`);
    return Object.entries(hs).map(([name, h]) => ({
      name,
      vars: { ...allVars, ...gv, ...(h === null ? {} : obj(h, `${group}.hosts.${name}`)) },
    }));
  };
  const sws = hostsOf('pallas_switch'),
    servers = hostsOf('pallas_servers'),
    clients = hostsOf('pallas_clients');
  if (sws.length !== 1) bad('inventory', `an ansible inventory needs exactly one host in group pallas_switch (it has ${sws.length})`);
  if (servers.length === 0) bad('inventory', 'an ansible inventory needs at least one host in group pallas_servers');
  const everyone = [...sws, ...servers, ...clients];
  const local = everyone.every((h) => h.vars.ansible_connection === 'local');
  for (const h of everyone) {
    // The bench reaches every host with one ssh port and key (all.vars): a host's own would be ignored.
    for (const k of ['ansible_port', 'ansible_ssh_private_key_file', 'ansible_ssh_common_args']) {
      if (h.vars[k] !== allVars[k]) bad(`host ${h.name}: ${k}`, 'the bench uses one value for every host: set it under all.vars');
    }
  }
  const hostSpec = (h: { name: string; vars: Obj }) => {
    const o = h.vars;
    const nicV = o.pallas_nic;
    let nicSpec: unknown = nicV;
    if (typeof nicV === 'object' && nicV !== null && !Array.isArray(nicV)) {
      const n = nicV as Obj;
      only(n, `host ${h.name}: pallas_nic`, ['device', 'peer_mac', 'eal']);
      // A server's or client's frames go to the software switch's host: its pallas_mac is the default peer.
      const swMac = h !== sws[0] && (sws[0]!.vars.pallas_switch_kind ?? 'soft') === 'soft' ? sws[0]!.vars.pallas_mac : undefined;
      const peer = o.pallas_peer_mac ?? n.peer_mac ?? swMac;
      nicSpec = { device: n.device, ...(peer !== undefined ? { peerMac: peer } : {}), ...(n.eal !== undefined ? { eal: n.eal } : {}) };
    }
    const target = typeof o.ansible_host === 'string' ? o.ansible_host : h.name;
    // A host's own ansible_user becomes user@host (the bench's ssh takes the inventory's otherwise).
    const user = typeof o.ansible_user === 'string' && o.ansible_user !== allVars.ansible_user ? `${o.ansible_user}@` : '';
    return {
      host: `${user}${target}`,
      ...(o.pallas_address !== undefined ? { address: o.pallas_address } : {}),
      ...(o.pallas_manage !== undefined ? { manage: o.pallas_manage } : {}),
      ...(nicV !== undefined ? { nic: nicSpec } : {}),
    };
  };
  const sw = sws[0]!;
  const secret = typeof allVars.pallas_secret === 'string' && !allVars.pallas_secret.includes('{{') ? allVars.pallas_secret : undefined;
  const doc: Obj = {
    connection: local ? 'local' : 'ssh',
    ssh: {
      ...(typeof allVars.ansible_user === 'string' ? { user: allVars.ansible_user } : {}),
      ...(allVars.ansible_port !== undefined ? { port: allVars.ansible_port } : {}),
      ...(typeof allVars.ansible_ssh_private_key_file === 'string' ? { identity: allVars.ansible_ssh_private_key_file } : {}),
      ...(typeof allVars.ansible_ssh_common_args === 'string'
        ? { options: allVars.ansible_ssh_common_args.split(/\s+/).filter(Boolean) }
        : {}),
    },
    ...(allVars.pallas_dir !== undefined ? { pallas: allVars.pallas_dir } : {}),
    ...(allVars.pallas_node !== undefined ? { node: allVars.pallas_node } : {}),
    ...(secret ? { secret } : {}),
    switch: {
      ...hostSpec(sw),
      ...(sw.vars.pallas_switch_kind !== undefined ? { kind: sw.vars.pallas_switch_kind } : {}),
      ...(sw.vars.pallas_switch_port !== undefined ? { port: sw.vars.pallas_switch_port } : {}),
      ...(sw.vars.pallas_control_port !== undefined ? { controlPort: sw.vars.pallas_control_port } : {}),
    },
    servers: servers.map((h) => ({
      ...hostSpec(h),
      ...(h.vars.pallas_server_port !== undefined ? { port: h.vars.pallas_server_port } : {}),
      cores: h.vars.pallas_worker_cores ?? h.vars.pallas_workers ?? 1,
    })),
    clients: clients.map(hostSpec),
  };
  try {
    return normaliseInventory(doc, file);
  } catch (e) {
    // Name the host and the ansible variable, not this module's path.
    const names = { switch: [sw.name], servers: servers.map((h) => h.name), clients: clients.map((h) => h.name) };
    const msg = (e as Error).message.replace(
      /inventory\.(switch|servers|clients)(?:\[(\d+)\])?\.(\w+)/g,
      (_m, g: 'switch' | 'servers' | 'clients', i: string | undefined, f: string) =>
        `host ${names[g][i === undefined ? 0 : Number(i)] ?? '?'}: ${ANSIBLE_FIELDS[f] ?? f}`,
    );
    if (e instanceof PallasError) throw new PallasError(e.code, msg);
    throw e;
  }
}

/**
 * The ansible inventory (deploy/ansible) that describes the same testbed as `inv`: what `pallas
 * inventory convert` prints for a file of the retired format. fromAnsible(toAnsible(inv)) is inv.
 */
export function toAnsible(inv: Inventory): Obj {
  const vars: Obj = {};
  if (inv.ssh.user !== undefined) vars.ansible_user = inv.ssh.user;
  if (inv.ssh.port !== undefined) vars.ansible_port = inv.ssh.port;
  if (inv.ssh.identity !== undefined) vars.ansible_ssh_private_key_file = inv.ssh.identity;
  if (inv.ssh.options.length) {
    const spaced = inv.ssh.options.find((w) => /\s/.test(w));
    if (spaced !== undefined) bad('inventory.ssh.options', `'${spaced}' has a space, which ansible_ssh_common_args cannot keep`);
    vars.ansible_ssh_common_args = inv.ssh.options.join(' ');
  }
  if (inv.connection === 'local') vars.ansible_connection = 'local';
  vars.pallas_dir = inv.pallas;
  if (inv.node !== 'node' && inv.connection === 'ssh') vars.pallas_node = inv.node;
  if (inv.secret !== undefined) vars.pallas_secret = inv.secret;
  const host = (h: HostSpec): Obj => {
    const at = h.host.lastIndexOf('@');
    return {
      ...(at >= 0 ? { ansible_user: h.host.slice(0, at) } : {}),
      ansible_host: at >= 0 ? h.host.slice(at + 1) : h.host,
      pallas_address: h.address,
      pallas_manage: h.manage,
      pallas_nic: h.nic
        ? { device: h.nic.device, ...(h.nic.peerMac ? { peer_mac: h.nic.peerMac } : {}), ...(h.nic.eal ? { eal: h.nic.eal } : {}) }
        : 'kernel',
    };
  };
  return {
    all: {
      vars,
      children: {
        pallas_switch: {
          hosts: {
            switch: {
              ...host(inv.switch),
              pallas_switch_kind: inv.switch.kind,
              pallas_switch_port: inv.switch.port,
              pallas_control_port: inv.switch.controlPort,
            },
          },
        },
        pallas_servers: {
          hosts: Object.fromEntries(
            inv.servers.map((s, i) => [
              `server${i + 1}`,
              { ...host(s), pallas_server_port: s.port, ...(s.cores ? { pallas_worker_cores: s.cores } : { pallas_workers: s.workers }) },
            ]),
          ),
        },
        pallas_clients: { hosts: Object.fromEntries(inv.clients.map((c, i) => [`client${i + 1}`, host(c)])) },
      },
    },
  };
}

/** Whether a parsed document is in the testbed format this module read before the ansible inventory replaced it. */
export function isRetiredInventory(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && ('switch' in v || 'servers' in v) && !('all' in v);
}

/**
 * Loads a testbed inventory: the ansible inventory of deploy/ansible. A file in the retired
 * format is refused with the command that converts it.
 */
export function loadInventory(file: string): Inventory {
  const v = readConfigFile(file, 'inventory');
  if (isRetiredInventory(v)) {
    throw new PallasError(
      'BAD_CONFIG',
      `${file} is in the retired testbed format; the testbed is described by an ansible inventory now ` +
        `(docs/deploy.md). Convert it: pallas inventory convert ${file} --out inventory.yml`,
    );
  }
  if (!isAnsibleInventory(v)) bad('inventory', `${file} is not an ansible inventory (YAML with one key, all: docs/deploy.md)`);
  return fromAnsible(v, file);
}

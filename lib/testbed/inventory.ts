// A testbed: the switch, the servers and the clients of a real rack, and how to reach them. Read
// from the ansible inventory of deploy/ansible (fromAnsible; docs/testbed.md lists the variables)
// into the form below, which the bench drives (`npm run bench -- <workload> --testbed FILE`).
// normaliseInventory validates that form; it was also the file format before the ansible
// inventory replaced it, and `pallas inventory convert` turns such a file into one (toAnsible).
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

import { bad, IPV4, MAC, obj, readConfigFile, type Obj } from '../config.js';
import { PallasError } from '../errors.js';
import { defaultEalFor, type TransportConfig } from '../io/transport.js';
import { packageRoot } from '../native.js';
import { jsonSchemaOf, parseWith, z, zEnum, zInt, zList, zObj, zStr } from '../schema.js';

// ---- Field rules shared by both formats ----

const zIpv4 = () => zStr().regex(IPV4, { error: (iss) => `'${String(iss.input)}' is not an IPv4 address` });
const zMac = () => zStr().regex(MAC, { error: (iss) => `'${String(iss.input)}' is not a MAC address (aa:bb:cc:dd:ee:ff)` });
const zPort = () => zInt(1, 65535);
const zStrList = () => z.array(z.string({ error: 'must be a list of strings' }), { error: 'must be a list of strings' });
const zCpuList = () =>
  z.array(z.int({ error: 'must be a CPU number' }).min(0, { error: 'must be a CPU number' }).max(4095, { error: 'must be a CPU number' }), {
    error: 'must be a list of CPU numbers',
  });
const KERNEL = z.literal('kernel', { error: "must be 'kernel' or a NIC object" });

// ---- The inventory as the bench drives it (and the retired file format) ----

const nicSchema = zObj({
  device: zStr().describe('A PCI address (probed with -a) or a vdev spec ("net_af_xdp0,iface=eth1")'),
  peerMac: zMac().optional().describe("Where frames go: the switch host's MAC"),
  eal: zStrList().optional().describe('EAL arguments, replacing the defaults whole'),
});
const hostShape = {
  host: zStr().optional().describe('How the bench reaches the host (ssh destination; default: address)'),
  address: zIpv4().describe("The data-plane address: where the host's requests and replies go"),
  manage: zIpv4().optional().describe('Where its HTTP endpoints listen (default: address)'),
  nic: z.union([KERNEL, nicSchema]).optional().describe("DPDK on this NIC; 'kernel' or absent: kernel UDP"),
};
const inventorySchema = zObj({
  connection: zEnum(['ssh', 'local'] as const).default('ssh'),
  ssh: zObj({ user: zStr().optional(), port: zPort().optional(), identity: zStr().optional(), options: zStrList().default([]) }).prefault(
    {},
  ),
  pallas: zStr().optional().describe('The built Pallas checkout on every host (absolute; default: this one)'),
  node: zStr().optional().describe('The Node that runs it (default: node over ssh, this Node locally)'),
  secret: zStr().min(16, { error: 'must be at least 16 characters' }).optional(),
  switch: zObj({
    ...hostShape,
    kind: zEnum(['soft', 'tofino'] as const).default('soft'),
    port: zPort().default(9010),
    controlPort: zPort().default(9020),
  }),
  servers: zList(zObj({ ...hostShape, port: zPort().default(9101), cores: z.union([zInt(1, 1024), zCpuList()]) })),
  clients: zList(zObj(hostShape)),
});

/** A NIC for DPDK: a PCI address (probed with -a) or a vdev spec ("net_af_xdp0,iface=eth1"). */
export type NicSpec = z.output<typeof nicSchema>;
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

function hostOf(o: z.output<z.ZodObject<typeof hostShape>>): HostSpec {
  const nic = o.nic === 'kernel' ? undefined : o.nic;
  return { host: o.host ?? o.address, address: o.address, manage: o.manage ?? o.address, ...(nic ? { nic } : {}) };
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
  const d = parseWith(inventorySchema, v, 'inventory');
  const identity = d.ssh.identity?.replace(/^~(?=\/)/, homedir());
  const ssh = {
    ...(d.ssh.user !== undefined ? { user: d.ssh.user } : {}),
    ...(d.ssh.port !== undefined ? { port: d.ssh.port } : {}),
    ...(identity ? { identity: isAbsolute(identity) ? identity : resolve(identity) } : {}),
    options: d.ssh.options,
  };
  const pallas = d.pallas ?? packageRoot;
  if (!isAbsolute(pallas)) bad('inventory.pallas', `must be an absolute path (the Pallas checkout on every host), not '${pallas}'`);
  if (d.switch.kind === 'tofino') {
    bad(
      'inventory.switch.kind',
      'the testbed bench starts a software switch on the switch host; with a Tofino, run pallas control ' +
        'with switch: { kind: tofino } (docs/tofino.md) and the agents yourself; use kind: soft here',
    );
  }
  const sw: SwitchHost = { ...hostOf(d.switch), kind: d.switch.kind, port: d.switch.port, controlPort: d.switch.controlPort };
  const servers = d.servers.map((s, i): ServerHost => {
    const cores = Array.isArray(s.cores) ? s.cores : undefined;
    if (cores && (cores.length === 0 || new Set(cores).size !== cores.length))
      bad(`inventory.servers[${i}].cores`, 'must list distinct CPUs, one per worker');
    return { ...hostOf(s), port: s.port, workers: cores ? cores.length : (s.cores as number), ...(cores ? { cores } : {}) };
  });
  const seen = new Set<string>();
  servers.forEach((s, i) => {
    const k = `${s.address}:${s.port}`;
    if (seen.has(k) || k === `${sw.address}:${sw.port}`) bad(`inventory.servers[${i}]`, `${k} is used twice`);
    seen.add(k);
  });
  if (servers.length > 254) bad('inventory.servers', 'at most 254 servers');
  return {
    file,
    connection: d.connection,
    ssh,
    pallas,
    node: d.node ?? (d.connection === 'local' ? process.execPath : 'node'),
    ...(d.secret ? { secret: d.secret } : {}),
    switch: sw,
    servers,
    clients: d.clients.map(hostOf),
  };
}

// ---- The ansible inventory (deploy/ansible) ----

/**
 * The host variables the bench reads from an ansible inventory (docs/deploy.md lists them all;
 * the playbooks check the rest). Other variables pass through: they are the playbooks'.
 */
const ansibleVarsSchema = z.looseObject({
  ansible_host: zStr().optional().describe('Where ssh reaches the host (default: its inventory name)'),
  ansible_user: zStr().optional().describe("The ssh user (a host's own becomes user@host for the bench)"),
  ansible_port: zPort().optional().describe('The ssh port (the bench takes one for every host: set it under all.vars)'),
  ansible_ssh_private_key_file: zStr().optional().describe('The ssh key (one for every host: all.vars)'),
  ansible_ssh_common_args: z
    .string({ error: 'must be a string' })
    .optional()
    .describe('Extra ssh arguments (one for every host: all.vars)'),
  ansible_connection: zStr().optional().describe("'local' on every host: a testbed of local processes"),
  pallas_address: zIpv4().optional().describe("The data-plane address: where the host's requests and replies go"),
  pallas_manage: zIpv4().optional().describe('Where its HTTP endpoints listen (default: pallas_address)'),
  pallas_nic: z
    .union([
      KERNEL,
      zObj({
        device: zStr().describe('A PCI address or a vdev spec'),
        peer_mac: zMac().optional().describe("The MAC frames go to (default: the software switch host's pallas_mac)"),
        eal: zStrList().optional().describe('EAL arguments, replacing the defaults whole'),
      }),
    ])
    .optional()
    .describe("DPDK on this NIC; 'kernel' or absent: kernel UDP"),
  pallas_mac: zMac().optional().describe("The host's NIC MAC"),
  pallas_peer_mac: zMac().optional().describe("The MAC this host's frames go to (overrides pallas_nic.peer_mac)"),
  pallas_worker_cores: zCpuList().optional().describe("A server's worker CPUs, one worker each"),
  pallas_workers: zInt(1, 1024).optional().describe('A count of unpinned workers, instead of pallas_worker_cores'),
  pallas_server_port: zPort().optional().describe("A server's UDP port (default 9101 for the bench; the playbooks' 9011)"),
  pallas_switch_kind: zEnum(['soft', 'tofino'] as const)
    .optional()
    .describe('The switch: software (soft) or a Tofino'),
  pallas_switch_port: zPort().optional().describe("The software switch's UDP port"),
  pallas_control_port: zPort().optional().describe("The control plane's HTTP port"),
  pallas_agent_port: zPort().optional().describe("An agent's HTTP port"),
  pallas_dir: zStr().optional().describe('The Pallas checkout on every host (absolute)'),
  pallas_node: zStr().optional().describe('The Node that runs it'),
  pallas_secret: z
    .string({ error: 'must be a string' })
    .optional()
    .describe("The control channel's shared secret (at least 16 characters)"),
});
type AnsibleVars = z.output<typeof ansibleVarsSchema>;

const ansibleGroup = zObj({
  vars: ansibleVarsSchema.optional(),
  hosts: z.record(z.string(), ansibleVarsSchema.nullable()).nullable().optional(),
  children: z.record(z.string(), z.unknown()).optional(),
});

/** The JSON Schema of the ansible inventory (`pallas schema inventory`; schemas/inventory.schema.json). */
export function inventoryJsonSchema(): object {
  const schema = zObj({
    all: zObj({
      vars: ansibleVarsSchema.optional(),
      hosts: z.record(z.string(), ansibleVarsSchema.nullable()).optional(),
      children: z
        .looseObject({
          pallas_switch: ansibleGroup.describe('Exactly one host: the switch (software switch and control plane, or the Tofino)'),
          pallas_servers: ansibleGroup.describe('The servers (an agent and its runtime each)'),
          pallas_clients: ansibleGroup.optional().describe('The load generators'),
        })
        .describe('The groups'),
    }),
  });
  return jsonSchemaOf(schema, {
    title: 'Pallas testbed (ansible inventory)',
    description: 'The hosts of a Pallas testbed and their pallas_* variables (docs/deploy.md)',
  });
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
  // Each host's variables as ansible resolves them (all's, then the group's, then its own), checked
  // by the schema with errors that name the host and the variable.
  const hostsOf = (group: string): { name: string; vars: AnsibleVars }[] => {
    if (children[group] === undefined) return [];
    const g = obj(children[group], `inventory.all.children.${group}`);
    const gv: Obj = g.vars === undefined ? {} : obj(g.vars, `${group}.vars`);
    const hs: Obj = g.hosts === undefined || g.hosts === null ? {} : obj(g.hosts, `${group}.hosts`);
    return Object.entries(hs).map(([name, h]) => ({
      name,
      vars: parseWith(
        ansibleVarsSchema,
        { ...allVars, ...gv, ...(h === null ? {} : obj(h, `${group}.hosts.${name}`)) },
        (p) => `host ${name}: ${p}`,
      ),
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
  const hostSpec = (h: { name: string; vars: AnsibleVars }) => {
    const o = h.vars;
    const nicV = o.pallas_nic;
    let nicSpec: unknown = nicV;
    if (typeof nicV === 'object') {
      const n = nicV;
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

// Fuzzing the documents that come in through TypeScript: scenario files, inventories, server and
// switch configs, switch tables, transports, the agent's policy messages, and the YAML/JSON reader
// under all of them. Each parser gets random documents (fast-check, fixed seed, bounded runs) and
// mutations of a valid one (a field replaced by any JSON value, deleted, or a key added), and must
// either return or refuse with one BAD_CONFIG line; any other exception (a TypeError, a crash in a
// default) is a bug. (libFuzzer for JavaScript, Jazzer.js, does not run on Debian 12: its prebuilt
// fuzzer needs glibc 2.38, and building it fetches from GitHub. The native parsers have libFuzzer
// targets: native/fuzz, docs/native.md.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { parsePolicyMessage } from '../../lib/agent/agent.js';
import { readConfigFile } from '../../lib/config.js';
import { PallasError } from '../../lib/errors.js';
import { normaliseTransport } from '../../lib/io/transport.js';
import { packageRoot } from '../../lib/native.js';
import { normaliseServer, normaliseUpdate } from '../../lib/runtime/config.js';
import { normaliseScenario } from '../../lib/sim/scenario.js';
import { normaliseTables } from '../../lib/switch/tables.js';
import { normaliseTofinoConfig } from '../../lib/switch/tofino.js';
import { fromAnsible, normaliseInventory } from '../../lib/testbed/inventory.js';

const RUNS = 1000;
const SEED = 20261202;

/** Calls `f`; fails on any exception but a one-line BAD_CONFIG PallasError. */
function refusesCleanly(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof PallasError) || e.code !== 'BAD_CONFIG' || e.message.includes('\n')) {
      throw new Error(`not a one-line BAD_CONFIG refusal: ${(e as Error).stack ?? String(e)}`);
    }
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path (list of keys/indexes) of a JSON document. */
function paths(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

/** A mutation of `doc`: at one of its paths, replace the value, delete it, or add a key beside it. */
const mutated = (doc: Json) =>
  fc
    .record({
      pick: fc.nat(),
      how: fc.constantFrom('replace', 'delete', 'add'),
      value: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
      key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'name', 'kind')),
    })
    .map(({ pick, how, value, key }) => {
      const copy = structuredClone(doc);
      const all = paths(copy);
      const path = all[pick % all.length]!;
      if (path.length === 0) return how === 'replace' ? value : copy;
      const parent = path.slice(0, -1).reduce<Json>((o, k) => (o as Record<string | number, Json>)[k]!, copy) as Record<
        string | number,
        Json
      >;
      const last = path[path.length - 1]!;
      if (how === 'replace') parent[last] = value;
      else if (how === 'delete') {
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
      } else if (!Array.isArray(parent))
        Object.defineProperty(parent, key, { value, enumerable: true, configurable: true, writable: true });
      return copy;
    });

const anyDoc = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>;

const yamlFile = (f: string) => parse(readFileSync(join(packageRoot, f), 'utf8')) as Json;

const scenario: Json = yamlFile('bench/scenarios/paper/fig8a-bimodal.yaml');
const ansible: Json = yamlFile('deploy/ansible/inventory/example.yml');
const inventory: Json = {
  switch: { host: 'tor', address: '10.0.0.1' },
  servers: [
    { address: '10.0.0.11', cores: 4 },
    { address: '10.0.0.12', cores: [2, 3], nic: { device: '0000:3b:00.0' } },
  ],
  clients: [{ address: '10.0.0.21' }],
};
const server: Json = {
  serverId: 1,
  workers: 2,
  transport: { kind: 'udp', bindIp: '127.0.0.1', port: 9011 },
  handlers: { short: 'spin', long: { fixedUs: 100 } },
  policy: {
    kind: 'darc',
    darc: {
      groups: [
        { types: ['short'], workers: 1 },
        { types: ['long'], workers: 1 },
      ],
    },
  },
};
const tables: Json = {
  typeToGroup: { 1: 0, 2: 1 },
  defaultGroup: 0,
  clone: true,
  groups: [
    { cThres: 10, cloneTarget: 1, wrr: [{ server: 0, weight: 2 }] },
    { balance: 'po2', wrr: [{ server: 1 }, { server: 2, weight: 3 }] },
  ],
};
const tofino: Json = {
  kind: 'tofino',
  grpc: '127.0.0.1:50052',
  vip: '10.0.0.1',
  ports: [1, 2],
  clients: [{ ip: '10.0.0.100', port: 0, mac: '00:00:00:00:00:64' }],
};
const transport: Json = { kind: 'dpdk', device: 'net_af_packet0,iface=veth0', ip: '10.0.0.2', udpPort: 9000, peerMac: '02:00:00:00:00:01' };
const update: Json = { epoch: 3, policy: { kind: 'cfcfs', queueCapacity: 64 } };

const targets: [string, Json, (d: unknown) => unknown][] = [
  ['scenario', scenario, (d) => normaliseScenario(d)],
  ['ansible inventory', ansible, (d) => fromAnsible(d)],
  ['inventory (retired format)', inventory, (d) => normaliseInventory(d)],
  ['server config', server, (d) => normaliseServer(d)],
  ['switch tables', tables, (d) => normaliseTables(d, 4)],
  ['tofino config', tofino, (d) => normaliseTofinoConfig(d)],
  ['transport', transport, (d) => normaliseTransport(d)],
  [
    'agent policy message',
    update,
    (d) => {
      const m = parsePolicyMessage(d);
      return normaliseUpdate(m.policy, 4, m.epoch);
    },
  ],
];

describe('document fuzzing (fast-check)', () => {
  it.each(targets)('%s: the valid seed passes; random and mutated documents pass or are refused in one line', (_name, seed, f) => {
    expect(() => f(structuredClone(seed))).not.toThrow();
    fc.assert(
      fc.property(anyDoc, (d) => refusesCleanly(() => f(d))),
      { numRuns: RUNS, seed: SEED },
    );
    fc.assert(
      fc.property(mutated(seed), (d) => refusesCleanly(() => f(d))),
      { numRuns: RUNS * 3, seed: SEED },
    );
  });

  const dir = mkdtempSync(join(tmpdir(), 'pallas-fuzz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('the YAML and JSON reader: any text is a document or a one-line refusal naming the file', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(...'{}[]:,-#&*!|>\'"%@` \n\t0aZ'.split('')), maxLength: 120 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    let i = 0;
    fc.assert(
      fc.property(text, fc.boolean(), (t, json) => {
        const f = join(dir, `doc${i++}.${json ? 'json' : 'yaml'}`);
        writeFileSync(f, t);
        try {
          readConfigFile(f, 'scenario');
        } catch (e) {
          expect(e).toBeInstanceOf(PallasError);
          expect((e as Error).message.startsWith(f)).toBe(true);
          expect((e as Error).message).not.toContain('\n');
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

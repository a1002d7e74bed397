// The config schemas, declared once in zod: the JSON Schemas in schemas/ are what the code
// generates; an independent validator (Python's jsonschema) accepts every scenario and inventory
// in the repository with them, and refuses what the zod schema refuses.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { PallasError } from '../../lib/errors.js';
import { packageRoot } from '../../lib/native.js';
import { normaliseScenario, scenarioJsonSchema } from '../../lib/sim/scenario.js';
import { fromAnsible, inventoryJsonSchema } from '../../lib/testbed/inventory.js';

const schemaFile = (f: string) => join(packageRoot, 'schemas', f);

/** Python's jsonschema (Debian's python3-jsonschema), draft 2020-12: the error count of each document. */
function jsonSchemaErrors(schema: object, docs: unknown[]): number[] {
  const py = [
    'import json, sys, jsonschema',
    'd = json.load(sys.stdin)',
    'v = jsonschema.Draft202012Validator(d["schema"])',
    'print(json.dumps([len(list(v.iter_errors(x))) for x in d["docs"]]))',
  ].join('\n');
  const out = execFileSync('python3', ['-c', py], { input: JSON.stringify({ schema, docs }), encoding: 'utf8' });
  return JSON.parse(out) as number[];
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

const scenario = () => ({
  rack: { servers: 2, workers: 4 },
  workload: { types: [{ name: 'short', service: { dist: 'exp', meanUs: 1 } }] },
  systems: ['pallas', { switch: 'po2', server: 'darc', darc: { recheckSamples: 10 } }],
  loads: [0.5],
});

describe('config schemas', () => {
  it('ships the JSON Schemas the code generates (regenerate: pallas schema <format> --out schemas/<format>.schema.json)', () => {
    expect(JSON.parse(readFileSync(schemaFile('scenario.schema.json'), 'utf8'))).toEqual(scenarioJsonSchema());
    expect(JSON.parse(readFileSync(schemaFile('inventory.schema.json'), 'utf8'))).toEqual(inventoryJsonSchema());
  });

  it("accepts every scenario and inventory in the repository, as the code's own validation does", () => {
    const files = yamlFiles(join(packageRoot, 'bench', 'scenarios'));
    expect(files.length).toBeGreaterThan(10);
    const docs = files.map((f) => parse(readFileSync(f, 'utf8')) as unknown);
    docs.forEach((d, i) => expect(() => normaliseScenario(d, files[i])).not.toThrow());
    expect(jsonSchemaErrors(scenarioJsonSchema(), docs)).toEqual(docs.map(() => 0));
    const inv = parse(readFileSync(join(packageRoot, 'deploy', 'ansible', 'inventory', 'example.yml'), 'utf8')) as unknown;
    expect(() => fromAnsible(inv)).not.toThrow();
    expect(jsonSchemaErrors(inventoryJsonSchema(), [inv])).toEqual([0]);
  });

  it('refuses what the code refuses: unknown fields, wrong kinds, values out of range, unknown names', () => {
    const broken: [string, (d: ReturnType<typeof scenario> & Record<string, unknown>) => void][] = [
      ['a typo', (d) => (d.lods = [1])],
      ['servers 0', (d) => (d.rack.servers = 0)],
      ['workers 1.5', (d) => (d.rack.workers = 1.5)],
      ['a string load', (d) => ((d.loads as unknown[]) = ['high'])],
      ['load 0', (d) => (d.loads = [0])],
      ['an unknown dist', (d) => ((d.workload.types[0]!.service.dist as string) = 'pareto')],
      ['an unknown preset', (d) => (d.systems = ['fifo'])],
      ['a darc option mistyped', (d) => (d.systems = [{ switch: 'po2', server: 'darc', darc: { recheckSample: 10 } as never }])],
      ['no systems', (d) => (d.systems = [])],
      ['rack a list', (d) => ((d.rack as unknown) = [2, 4])],
    ];
    const docs = broken.map(([, f]) => {
      const d = scenario() as ReturnType<typeof scenario> & Record<string, unknown>;
      f(d);
      return d;
    });
    expect(() => normaliseScenario(scenario())).not.toThrow();
    expect(jsonSchemaErrors(scenarioJsonSchema(), [scenario()])).toEqual([0]);
    for (const d of docs) expect(() => normaliseScenario(d)).toThrow(PallasError);
    const errors = jsonSchemaErrors(scenarioJsonSchema(), docs);
    broken.forEach(([name], i) => expect(`${name}: ${errors[i]}`).not.toBe(`${name}: 0`));

    const inv = (s1: Record<string, unknown>) => ({
      all: {
        children: {
          pallas_switch: { hosts: { sw: { pallas_address: '10.0.0.1' } } },
          pallas_servers: { hosts: { s1: { pallas_address: '10.0.0.2', ...s1 } } },
          pallas_clients: { hosts: { c1: null } },
        },
      },
    });
    const badHosts = [
      { pallas_address: '10.0.0.300' },
      { pallas_worker_cores: [-1] },
      { pallas_nic: { device: 'x', pci: 'y' } },
      { ansible_port: 0 },
    ];
    for (const h of badHosts) expect(() => fromAnsible(inv(h))).toThrow(/host s1: /);
    expect(jsonSchemaErrors(inventoryJsonSchema(), [inv({ pallas_dispatcher_core: 1 }), ...badHosts.map(inv)])).toEqual([0, 1, 1, 1, 1]);
  });

  it('words every error as one line naming the field', () => {
    const msg = (f: (d: ReturnType<typeof scenario> & Record<string, unknown>) => void) => {
      const d = scenario() as ReturnType<typeof scenario> & Record<string, unknown>;
      f(d);
      try {
        normaliseScenario(d);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(msg((d) => (d.rack.workers = 1.5))).toBe('scenario.rack.workers: must be an integer in [1, 4096]');
    expect(msg((d) => ((d.rack as unknown) = [2, 4]))).toBe('scenario.rack: must be an object');
    expect(msg((d) => ((d.loads as unknown[]) = ['high']))).toBe('scenario.loads[0]: must be a number in (0, 100]');
    expect(msg((d) => (d.systems = [{ switch: 'po2', server: 'darc', darc: { recheckSample: 10 } as never }]))).toBe(
      'scenario.systems[0].darc.recheckSample: unknown field ' +
        '(expected one of: profileSamples, recheckSamples, groupRatio, rereserveThreshold, warm, groups)',
    );
    expect(msg((d) => (d.systems = [{ system: 'pallas', deltaCores: 'x' } as never]))).toBe(
      'scenario.systems[0].deltaCores: must be a number in [0, 1000000]',
    );
    expect(msg((d) => (d.systems = [{ system: 'pallas', groups: 2 } as never]))).toBe(
      'scenario.systems[0].groups: must be an integer in [1, 1]',
    );
    expect(msg((d) => (d.systems = [{ system: 'rs-darc', tauShift: 12 } as never]))).toMatch(
      /^scenario\.systems\[0\]\.tauShift: unknown field/,
    );
    expect(msg((d) => (d.systems = [{ switch: 'po2' } as never]))).toBe(
      'scenario.systems[0].server: must be one of: cfcfs, dfcfs, darc, ts, ps',
    );
    expect(
      msg((d) => (d.workload = { types: [{ name: 'a', service: { dist: 'exp', meanUs: 1 } }], phases: [{ shares: { a: 0 } }] } as never)),
    ).toBe('scenario.workload.phases[0].shares: needs a positive share for at least one type');
  });
});

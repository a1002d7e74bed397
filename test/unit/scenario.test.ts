// Scenario files: validation (one clear error naming the field), defaults, and the native config.
/* eslint-disable @typescript-eslint/no-explicit-any -- the cases below break a scenario document on purpose, one field at a time */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { PallasError } from '../../lib/errors.js';
import { loadScenario, nativeConfig, normaliseScenario, profileSamples, sweptShares } from '../../lib/sim/scenario.js';

const minimal = () => ({
  rack: { servers: 1, workers: 16 },
  workload: { types: [{ name: 'short', service: { dist: 'exp', meanUs: 1 }, share: 1 }] },
  systems: [{ switch: 'random', server: 'cfcfs' }],
  loads: [0.8, 0.9],
});

function badWith(mutate: (d: any) => void): string {
  const d: any = minimal();
  mutate(d);
  try {
    normaliseScenario(d);
  } catch (e) {
    expect(e).toBeInstanceOf(PallasError);
    expect((e as PallasError).code).toBe('BAD_CONFIG');
    return (e as Error).message;
  }
  throw new Error('expected a BAD_CONFIG error');
}

describe('scenario validation', () => {
  it('fills the documented defaults', () => {
    const sc = normaliseScenario(minimal(), 'x');
    expect(sc).toMatchObject({ name: 'x', network: { oneWayUs: 0 }, requests: 1_000_000, seed: 1, warmup: 0.1 });
    expect(sc.workload.arrivals).toEqual({ dist: 'poisson', cv: 1 });
    expect(sc.systems[0]).toMatchObject({ name: 'random/cfcfs', queueCapacity: 4096 });
  });

  it.each([
    ['rack missing', (d: any) => delete d.rack, 'scenario.rack: must be an object'],
    ['zero workers', (d: any) => (d.rack.workers = 0), 'scenario.rack.workers: must be an integer in [1, 4096]'],
    ['unknown top-level key', (d: any) => (d.lods = [1]), 'scenario.lods: unknown field'],
    [
      'unknown service dist',
      (d: any) => (d.workload.types[0].service.dist = 'pareto'),
      'scenario.workload.types[0].service.dist: must be one of: fixed, exp, lognormal',
    ],
    ['sigma without lognormal', (d: any) => (d.workload.types[0].service.sigma = 1), 'service.sigma: is only used with dist: lognormal'],
    ['duplicate type names', (d: any) => d.workload.types.push({ ...d.workload.types[0] }), "types[1].name: 'short' is used twice"],
    ['all shares zero', (d: any) => (d.workload.types[0].share = 0), 'needs a positive share'],
    ['cv without gamma', (d: any) => (d.workload.arrivals = { dist: 'poisson', cv: 2 }), 'arrivals.cv: is only used with dist: gamma'],
    [
      'unknown server policy',
      (d: any) => (d.systems[0].server = 'fifo'),
      'scenario.systems[0].server: must be one of: cfcfs, dfcfs, darc, ts, ps',
    ],
    ['ts option on cfcfs', (d: any) => (d.systems[0].sliceUs = 5), 'systems[0].sliceUs: is only used with server: ts'],
    ['load out of range', (d: any) => (d.loads = [0]), 'scenario.loads[0]: must be a number in (0, 100]'],
    ['too few requests', (d: any) => (d.requests = 3), 'scenario.requests: must be an integer'],
    ['phase without duration', (d: any) => (d.workload.phases = [{ load: 1 }, { load: 2 }]), 'phases[0].durationMs: is required'],
    ['phase share of an unknown type', (d: any) => (d.workload.phases = [{ shares: { long: 1 } }]), 'phases[0].shares.long: unknown field'],
    ['sweep of an unknown type', (d: any) => (d.sweep = { shareOf: 'long', values: [0.5] }), 'sweep.shareOf: must name a workload type'],
    [
      'darc group naming an unknown type',
      (d: any) => (d.systems = [{ server: 'darc', darc: { groups: [{ types: ['x'], workers: 1 }] } }]),
      'groups[0].types[0]: must name a workload type',
    ],
    [
      'darc groups over-reserving',
      (d: any) => (d.systems = [{ server: 'darc', darc: { groups: [{ types: ['short'], workers: 17 }] } }]),
      'reserve 17 workers but a server has 16',
    ],
  ])('rejects %s', (_n, mutate, want) => {
    expect(badWith(mutate)).toContain(want);
  });
});

describe('scenario files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pallas-scn-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads YAML and JSON alike', () => {
    const y = join(dir, 'a.yaml');
    writeFileSync(
      y,
      [
        'rack: { servers: 2, workers: 4 }',
        'workload:',
        '  types:',
        '    - { name: s, service: { dist: fixed, meanUs: 2 } }',
        'systems: [ { server: ps } ]',
        'loads: [0.5]',
        '',
      ].join('\n'),
    );
    const j = join(dir, 'a.json');
    writeFileSync(
      j,
      JSON.stringify({
        rack: { servers: 2, workers: 4 },
        workload: { types: [{ name: 's', service: { dist: 'fixed', meanUs: 2 } }] },
        systems: [{ server: 'ps' }],
        loads: [0.5],
      }),
    );
    const a = loadScenario(y),
      b = loadScenario(j);
    expect({ ...a, name: '' }).toEqual({ ...b, name: '' });
    expect(a.name).toBe('a');
  });

  it('names the file and the line of a syntax error', () => {
    const f = join(dir, 'broken.yaml');
    writeFileSync(f, 'rack: { servers: 2\nloads: [\n');
    expect(() => loadScenario(f)).toThrow(/broken\.yaml:\d+:\d+: not valid YAML: [^\n]+$/);
    expect(() => loadScenario(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml: cannot read the scenario config \(no such file\)/);
    const j = join(dir, 'broken.json');
    writeFileSync(j, '{\n  "rack": { "servers": 2,\n  oops\n}');
    expect(() => loadScenario(j)).toThrow(/broken\.json:3:\d+: not valid JSON: /);
    for (const empty of ['', '# only a comment\n']) {
      writeFileSync(f, empty);
      expect(() => loadScenario(f)).toThrow(/broken\.yaml: empty; a scenario config is a mapping/);
    }
    writeFileSync(f, '- a\n- b\n');
    expect(() => loadScenario(f)).toThrow(/broken\.yaml: a scenario config is a mapping of its settings, not a list/);
  });
});

describe('native config', () => {
  it('converts units, resolves type names, and applies a sweep', () => {
    const sc = normaliseScenario({
      ...minimal(),
      network: { oneWayUs: 2.5 },
      workload: {
        types: [
          { name: 'short', service: { dist: 'fixed', meanUs: 1 }, share: 3 },
          { name: 'mid', service: { dist: 'lognormal', meanUs: 10, sigma: 0.5 }, share: 1 },
          { name: 'long', service: { dist: 'exp', meanUs: 100 }, share: 1, arrivals: { dist: 'gamma', cv: 2 } },
        ],
        phases: [{ durationMs: 1, shares: { short: 1 } }, { load: 1.2 }],
      },
      systems: [
        {
          server: 'darc',
          darc: {
            groups: [
              { types: ['short'], workers: 4 },
              { types: ['long', 'mid'], workers: 12 },
            ],
          },
        },
      ],
      sweep: { shareOf: 'short', values: [0.5] },
    });
    const c = nativeConfig(sc, sc.systems[0]!, 0.7, 0.5);
    expect(c.oneWayNs).toBe(2500);
    expect(c.types.map((t) => [t.name, t.meanNs, t.share])).toEqual([
      ['short', 1000, 0.5],
      ['mid', 10000, 0.25],
      ['long', 100000, 0.25],
    ]);
    expect(c.types[2]!.arrivals).toEqual({ process: 'gamma', cv: 2 });
    expect(c.phases).toEqual([
      { durationNs: 1_000_000, loadScale: 1, shares: [1, 0, 0] },
      { durationNs: 0, loadScale: 1.2 },
    ]);
    expect(c.server.darc.groups).toEqual([
      { types: [0], workers: 4 },
      { types: [2, 1], workers: 12 },
    ]);
    expect(sweptShares(sc.workload.types, sc.sweep!, 0)).toEqual([0, 0.5, 0.5]);
    expect(sweptShares(sc.workload.types, sc.sweep!, 1)).toEqual([1, 0, 0]);
  });
});

describe('systems by name', () => {
  const withSystems = (systems: unknown[]) => normaliseScenario({ ...minimal(), systems });
  it('expands presets and their options', () => {
    const sc = withSystems([
      'rs-darc-oracle',
      { system: 'r2p2', jbsqDepth: 3 },
      { system: 'pallas', name: 'P', deltaCores: 5 },
      'pallas-static',
      'rs-darc',
      'pallas-oracle',
      'pallas-ideal',
      { system: 'pallas', name: 'Q', tauShift: 15, balance: 'po2', ablation: { sharedCloneCounter: true } },
    ]);
    expect(sc.systems[0]).toMatchObject({
      name: 'rs-darc-oracle',
      system: 'rs-darc-oracle',
      switch: 'po2',
      server: 'darc',
      darc: { warm: true },
    });
    expect(sc.systems[1]).toMatchObject({ switch: 'jbsq', server: 'cfcfs', jbsqDepth: 3 });
    expect(sc.systems[2]).toMatchObject({
      name: 'P',
      switch: 'pallas',
      pallas: {
        learn: true,
        adapt: true,
        clone: true,
        bounce: true,
        deltaCores: 5,
        intervalMs: 10,
        tauShift: 14,
        balance: 'auto',
        ablation: {},
      },
    });
    expect(sc.systems[3]!.pallas).toMatchObject({ learn: false, adapt: false });
    expect(nativeConfig(sc, sc.systems[0]!, 0.5).server.darc.warm).toEqual([{ type: 0, meanNs: 1000, share: 1 }]);
    // rs-darc profiles as Perséphone does: cFCFS first, for 50 000 completions or the first half of the warm-up.
    expect(sc.systems[4]).toMatchObject({ darc: { warm: false } });
    expect(nativeConfig(sc, sc.systems[4]!, 0.5).server.darc).toMatchObject({ profileSamples: profileSamples(sc) });
    expect(nativeConfig(sc, sc.systems[4]!, 0.5).server.darc.warm).toBeUndefined();
    expect(profileSamples({ requests: 1e9, warmup: 0.1, rack: { servers: 8, workers: 10 } })).toBe(50_000);
    expect(profileSamples({ requests: 300_000, warmup: 0.1, rack: { servers: 8, workers: 10 } })).toBe(1875);
    expect(sc.systems[5]!.pallas).toMatchObject({ learn: false, adapt: true });
    expect(sc.systems[6]!.pallas).toMatchObject({ learn: true, ablation: { tauUs: 20, argminTarget: true } });
    expect(sc.systems[7]!.pallas).toMatchObject({ tauShift: 15, balance: 'po2', ablation: { sharedCloneCounter: true } });
  });
  it.each([
    [['fifo'], 'scenario.systems[0]: must be one of: pallas, pallas-oracle'],
    [[{ system: 'rs-darc', jbsqDepth: 2 }], 'scenario.systems[0].jbsqDepth: unknown field'],
    [[{ system: 'pallas', deltaCores: -1 }], 'scenario.systems[0].deltaCores: must be'],
    [['rs-darc', 'rs-darc'], "a system named 'rs-darc' is already listed"],
    [[{ switch: 'pallas', server: 'cfcfs' }], 'scenario.systems[0].switch: must be one of'],
  ])('rejects %j', (systems, want) => {
    expect(() => withSystems(systems)).toThrow(want);
  });
});

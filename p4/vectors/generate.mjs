#!/usr/bin/env node
// Shared test vectors of the switch pipeline (docs/switch-contract.md): each names tables, a
// sequence of packets with their arrival times, and what the C++ pipeline (native/core/switch, the
// reference) does with each and leaves in its registers and counters. test/native/switch-vectors
// replays them against the C++ pipeline; p4/ptf/test_vectors.py replays them on the Tofino model.
//   node p4/vectors/generate.mjs           writes p4/vectors/*.json (needs `npm run build`)
//   node p4/vectors/generate.mjs --check   exits 1 when a file differs from what the pipeline gives
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { loadNative } = await import(join(root, 'dist/lib/native.js'));
const { p4Entries } = await import(join(root, 'dist/lib/switch/p4-entries.js'));
const { SWITCH, Flag, Clone } = await import(join(root, 'dist/lib/wire/gen.js'));

/** The deployment values the vectors' switch_cfg entry carries (the PTF test maps ports itself). */
export const SETUP = { vip: 0x0A000001, cloneSession: 1 };
const TAU = (k) => 2 ** k;
const RESP = Flag.RESPONSE, NOTICE = Flag.DROP_NOTICE, BOUNCED = Flag.BOUNCED;

const tables = (over) => ({ typeToGroup: {}, defaultGroup: 0, tauShift: SWITCH.tauShiftDefault, clone: true, ...over,
  groups: over.groups.map((g) => ({ cThres: 0, cloneTarget: null, balance: 'wrr', ...g })) });

/**
 * The vectors. `timing`: "one-window" when every packet falls in one burst window of the vector's
 * tauShift (a model whose clock the test cannot set can still replay it, with a large tauShift),
 * "ns" when the outcome depends on exact arrival times (the C++ pipeline only).
 */
function definitions() {
  const v = [];
  v.push({
    name: 'shaper-index', covers: ['type_to_group', 'default group (unmapped)', 'seq and its wrap past 2^32 − 1 (0 skipped)', 'a client-given index kept', 'mon_requests'],
    timing: 'one-window', seq: 0xFFFFFFFE,
    tables: tables({ typeToGroup: { 1: 0, 2: 1 }, defaultGroup: 1, groups: [{ wrr: [{ server: 0, weight: 1 }] }, { wrr: [{ server: 1, weight: 1 }] }] }),
    steps: [{ atNs: 0, request: { type: 1 } }, { atNs: 1, request: { type: 2 } }, { atNs: 2, request: { type: 9 } }, { atNs: 3, request: { type: 1, index: 77 } }],
  });
  v.push({
    name: 'wrr-weights', covers: ['wrr positions and weights', 'wrr_counter wrap at wrr_total', 'a weight-0 row skipped'],
    timing: 'one-window',
    tables: tables({ typeToGroup: { 1: 0 }, groups: [{ wrr: [{ server: 0, weight: 3 }, { server: 7, weight: 0 }, { server: 1, weight: 1 }, { server: 2, weight: 2 }] }] }),
    steps: Array.from({ length: 13 }, (_, i) => ({ atNs: i, request: { type: 1 } })),
  });
  const cloneTables = tables({ typeToGroup: { 1: 0, 3: 2 }, tauShift: 24, groups: [
    { wrr: [{ server: 0, weight: 3 }, { server: 1, weight: 1 }], cThres: 4, cloneTarget: 2 },
    { wrr: [{ server: 3, weight: 1 }] },
    { wrr: [{ server: 5, weight: 2 }, { server: 6, weight: 1 }], cThres: 6 }] });
  v.push({
    name: 'burst-clone', covers: ['burst count per window', 'cloning past C_thres to the clone target', 'the clone counted in its target\'s window',
      'the clone\'s server from clone_counter, not the target\'s wrr_counter', 'suppression when the target is over its own threshold', 'outstanding +1 for clones'],
    timing: 'one-window', tables: cloneTables,
    steps: [
      ...Array.from({ length: 7 }, (_, i) => ({ atNs: 1000 + i, request: { type: 1 } })),   // 5th–7th cloned to group 2
      { atNs: 1100, request: { type: 3 } }, { atNs: 1101, request: { type: 3 } },            // group 2's own: 5, then 6 in its window
      { atNs: 1200, request: { type: 1 } },                                                   // cloned: group 2 reaches 6, not over it
      { atNs: 1201, request: { type: 1 } },                                                   // cloned: group 2 at 7 > 6, suppressed
    ],
  });
  v.push({
    name: 'burst-window-turn', covers: ['the last ns of a window and the first of the next', 'window ids from now[39:8] >> (k − 8)', 'ids repeating after 2^40 ns'],
    timing: 'ns',
    tables: tables({ typeToGroup: { 1: 0 }, groups: [{ wrr: [{ server: 0, weight: 1 }], cThres: 2, cloneTarget: 1 }, { wrr: [{ server: 1, weight: 1 }] }] }),
    steps: [
      { atNs: 5 * TAU(14), request: { type: 1 } }, { atNs: 5 * TAU(14) + 1, request: { type: 1 } }, { atNs: 6 * TAU(14) - 1, request: { type: 1 } },  // third: cloned
      { atNs: 6 * TAU(14), request: { type: 1 } },                                                                                                    // new window: 1
      { atNs: 2 ** 40 + 6 * TAU(14), request: { type: 1 } }, { atNs: 2 ** 40 + 6 * TAU(14) + 1, request: { type: 1 } },                              // same id 2^40 ns later: 2, 3 → cloned
    ],
  });
  v.push({
    name: 'po2-outstanding', covers: ['po2 over switch-kept outstanding counts (one server: both draws name it)', 'outstanding +1 per send, −1 per reply and notice, saturating at 0'],
    timing: 'one-window',
    tables: tables({ typeToGroup: { 1: 0 }, groups: [{ wrr: [{ server: 5, weight: 4 }], balance: 'po2' }] }),
    steps: [
      { atNs: 0, request: { type: 1 } }, { atNs: 1, request: { type: 1 } }, { atNs: 2, request: { type: 1 } },
      { atNs: 3, reply: { type: 1, flags: RESP, index: 1, group: 0, server: 5, timeNs: 1000 } },
      { atNs: 4, reply: { type: 1, flags: RESP | NOTICE, index: 2, group: 0, server: 5, timeNs: 0 } },
      { atNs: 5, reply: { type: 1, flags: RESP, index: 3, group: 0, server: 5, timeNs: 1000 } },
      { atNs: 6, reply: { type: 1, flags: RESP, index: 99, group: 0, server: 5, timeNs: 1000 } },  // never counted: stays at 0
    ],
  });
  const cl = (c) => c;  // clone bits
  v.push({
    name: 'reply-filter', covers: ['the first reply of a cloned request forwarded, the second dropped', 'an uncloned reply never filtered',
      'three cloned requests in one slot: the oldest evicted, its late second reply forwarded', 'monitor counts forwarded replies once'],
    timing: 'one-window',
    tables: tables({ groups: [{ wrr: [{ server: 0, weight: 1 }] }] }),
    steps: [
      { atNs: 0, reply: { type: 1, flags: RESP | cl(Clone.ORIGINAL), index: 5, group: 0, server: 0, timeNs: 100 } },
      { atNs: 1, reply: { type: 1, flags: RESP | cl(Clone.CLONE), index: 5, group: 0, server: 0, timeNs: 100 } },
      { atNs: 2, reply: { type: 1, flags: RESP, index: 5, group: 0, server: 0, timeNs: 100 } },
      { atNs: 3, reply: { type: 1, flags: RESP | cl(Clone.CLONE), index: 7, group: 0, server: 0, timeNs: 100 } },
      { atNs: 4, reply: { type: 1, flags: RESP | cl(Clone.ORIGINAL), index: 7 + SWITCH.filterSlots, group: 0, server: 0, timeNs: 100 } },
      { atNs: 5, reply: { type: 1, flags: RESP | cl(Clone.ORIGINAL), index: 7 + 2 * SWITCH.filterSlots, group: 0, server: 0, timeNs: 100 } },
      { atNs: 6, reply: { type: 1, flags: RESP | cl(Clone.ORIGINAL), index: 7, group: 0, server: 0, timeNs: 100 } },  // evicted: forwarded again
      { atNs: 7, reply: { type: 1, flags: RESP | cl(Clone.CLONE), index: 7 + 2 * SWITCH.filterSlots, group: 0, server: 0, timeNs: 100 } },
    ],
    filterSlots: [5, 7],
  });
  v.push({
    name: 'drop-notices', covers: ['a clone\'s notice consumed and its index forgotten', 'an uncloned notice forwarded and counted in mon_notices', 'a cloned original\'s notice forwarded, not counted'],
    timing: 'one-window',
    tables: tables({ groups: [{ wrr: [{ server: 0, weight: 1 }] }] }),
    steps: [
      { atNs: 0, reply: { type: 2, flags: RESP | cl(Clone.ORIGINAL), index: 11, group: 0, server: 0, timeNs: 50 } },
      { atNs: 1, reply: { type: 2, flags: RESP | NOTICE | cl(Clone.CLONE), index: 11, group: 0, server: 0, timeNs: 0 } },
      { atNs: 2, reply: { type: 2, flags: RESP | NOTICE | cl(Clone.ORIGINAL), index: 12, group: 0, server: 0, timeNs: 0 } },
      { atNs: 3, reply: { type: 2, flags: RESP | NOTICE, index: 13, group: 0, server: 0, timeNs: 0 } },
      { atNs: 4, reply: { type: 2, flags: RESP | cl(Clone.CLONE), index: 11, group: 0, server: 0, timeNs: 50 } },  // forgotten: forwarded
    ],
    filterSlots: [11],
  });
  v.push({
    name: 'bounced', covers: ['a bounced request\'s −1 on the server that bounced it', 'balanced again by WRR in a po2 group', 'index and flags kept', 'never counted as demand or cloned'],
    timing: 'one-window',
    tables: tables({ typeToGroup: { 1: 0 }, groups: [{ wrr: [{ server: 0, weight: 1 }, { server: 1, weight: 1 }], balance: 'po2', cThres: 1, cloneTarget: 1 }, { wrr: [{ server: 2, weight: 1 }] }] }),
    steps: [
      { atNs: 0, request: { type: 1, flags: BOUNCED, index: 42, group: 0, server: 1 } },
      { atNs: 1, request: { type: 1, flags: BOUNCED | cl(Clone.ORIGINAL), index: 43, group: 0, server: 0 } },
      { atNs: 2, request: { type: 1, flags: BOUNCED, index: 44, group: 0, server: 1 } },
    ],
  });
  v.push({
    name: 'monitor-rounding-wrap', covers: ['execution time in 16 ns units, rounded half up', 'no overflow of time_ns + 8', 'the 32-bit sum wrapping'],
    timing: 'one-window',
    tables: tables({ groups: [{ wrr: [{ server: 0, weight: 1 }] }] }),
    steps: [
      { atNs: 0, reply: { type: 4, flags: RESP, index: 1, group: 0, server: 0, timeNs: 7 } },
      { atNs: 1, reply: { type: 4, flags: RESP, index: 2, group: 0, server: 0, timeNs: 8 } },
      { atNs: 2, reply: { type: 4, flags: RESP, index: 3, group: 0, server: 0, timeNs: 0xFFFFFFFF } },
      ...Array.from({ length: 16 }, (_, i) => ({ atNs: 3 + i, reply: { type: 4, flags: RESP, index: 4 + i, group: 0, server: 0, timeNs: 0xFFFFFFF0 } })),
    ],
  });
  return v;
}

/** Runs one vector's packets through the C++ pipeline and records what it did. */
export function run(native, def) {
  const p = new native.SwitchPipeline(def.tables, undefined, { seed: 1, allowAblation: false });
  if (def.seq !== undefined) p.writeSeq(def.seq);
  const steps = def.steps.map((s) => {
    if (s.request) {
      const o = p.request(s.request, s.atNs);
      const fwd = (f) => ({ group: f.group, server: f.server, flags: f.flags, index: f.index });
      return { ...s, expect: o.dropped ? { dropped: true } : { out: fwd(o), ...(o.clone ? { clone: fwd(o.clone) } : {}) } };
    }
    return { ...s, expect: { forward: p.reply(s.reply) } };
  });
  const r = p.registers(def.filterSlots);
  const groups = def.tables.groups.length;
  const registers = {
    seq: r.seq, wrrCounter: r.wrrCounter.slice(0, groups), cloneCounter: r.cloneCounter.slice(0, groups),
    burstWindow: r.burstWindow.slice(0, groups), burstCount: r.burstCount.slice(0, groups),
    outstanding: r.outstanding, ...(r.filter ? { filter: r.filter } : {}),
  };
  const counters = Object.fromEntries(Object.entries(p.counters()).filter(([k]) => k !== 'n_filter_evicted'));
  return { ...def, steps, after: { registers, monitor: p.monitor(), counters } };
}

export function build(native) {
  return definitions().map((d) => {
    const v = run(native, d);
    return { name: v.name, covers: v.covers, timing: v.timing, ...(v.seq !== undefined ? { seq: v.seq } : {}), tables: v.tables,
      p4Entries: p4Entries(v.tables, SETUP), steps: v.steps, ...(v.filterSlots ? { filterSlots: v.filterSlots } : {}), after: v.after };
  });
}

const text = (v) => `${JSON.stringify(v, null, 1)}\n`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const vectors = build(loadNative());
  if (process.argv.includes('--check')) {
    const stale = vectors.filter((v) => { try { return readFileSync(join(here, `${v.name}.json`), 'utf8') !== text(v); } catch { return true; } });
    const extra = readdirSync(here).filter((f) => f.endsWith('.json') && !vectors.some((v) => `${v.name}.json` === f));
    for (const v of stale) console.error(`p4/vectors/${v.name}.json differs from what the C++ pipeline does: run node p4/vectors/generate.mjs`);
    for (const f of extra) console.error(`p4/vectors/${f} is not a vector the generator makes`);
    process.exit(stale.length || extra.length ? 1 : 0);
  }
  for (const v of vectors) writeFileSync(join(here, `${v.name}.json`), text(v));
  console.log(`wrote ${vectors.length} vectors to p4/vectors/`);
}

// The control plane's switch tables (docs/switch-contract.md) as the entries of the Tofino program
// (p4/pallas.p4), named as its bf-rt.json names them: what the BFRuntime driver writes and what the
// shared test vectors hand to PTF. The logical tables say "server s has weight w in group g"; the
// program keys WRR on position ranges and po2 on random-number ranges, so one weight change moves
// the rows after it: entries are computed whole from the tables and diffed entry by entry.
import { PallasError } from '../errors.js';
import type { SwitchTables } from './contract.js';
import { SWITCH } from '../wire/gen.js';

/** A range key (both ends included, as BFRuntime's Range match takes them). */
export interface RangeKey {
  low: number;
  high: number;
}
export interface P4Entry {
  /** The table or register, as bf-rt.json names it without "pipe.". */
  table: string;
  /** Key fields by name; a register's index is `$REGISTER_INDEX`; range tables also get `$MATCH_PRIORITY`. */
  key: Record<string, number | RangeKey>;
  /** The action (match tables), or null (registers). */
  action: string | null;
  /** Action data, or a register's fields. */
  data: Record<string, number>;
  /** The table's default entry (written with MODIFY, never inserted or deleted). */
  isDefault?: boolean;
}

export const P4 = {
  switchCfg: 'PallasIngress.switch_config.switch_cfg',
  typeToGroup: 'PallasIngress.shaper.type_to_group',
  groupCfg: 'PallasIngress.group_config.group_cfg',
  wrr: 'PallasIngress.wrr_pick.wrr',
  po2A: 'PallasIngress.po2_pick.po2_pick_a',
  po2B: 'PallasIngress.po2_pick.po2_pick_b',
  burstWindow: 'PallasIngress.burst_window.burst_window',
  wrrCounter: 'PallasIngress.counters.wrr_counter',
  cloneCounter: 'PallasIngress.counters.clone_counter',
  seq: 'PallasIngress.seq',
  servers: 'PallasIngress.forward.servers',
  serverPorts: 'PallasIngress.server_ports.server_ports',
} as const;

/** What the switch's deployment adds to the tables: the service address and the clone's mirror session. */
export interface SwitchSetup {
  vip: number;
  cloneSession: number;
}

const PO2_SPAN = 2 ** SWITCH.po2RandomBits;

/**
 * The program's entries for these tables. Throws BAD_POLICY for tables the program cannot hold
 * (the same limits the C++ pipeline's load() enforces).
 */
export function p4Entries(t: SwitchTables, setup: SwitchSetup): P4Entry[] {
  if (t.ablation && Object.keys(t.ablation).length)
    throw new PallasError('BAD_POLICY', 'ablations are simulator-only: a Tofino runs the realizable pipeline');
  if (t.groups.length < 1 || t.groups.length > SWITCH.maxGroups) throw new PallasError('BAD_POLICY', `1 to ${SWITCH.maxGroups} groups`);
  if (t.tauShift < SWITCH.tauShiftMin || t.tauShift > SWITCH.tauShiftMax)
    throw new PallasError('BAD_POLICY', `tauShift must be ${SWITCH.tauShiftMin} to ${SWITCH.tauShiftMax}`);
  if (!(t.defaultGroup >= 0 && t.defaultGroup < t.groups.length)) throw new PallasError('BAD_POLICY', 'the default group does not exist');
  const out: P4Entry[] = [];
  out.push({
    table: P4.switchCfg,
    key: {},
    action: 'PallasIngress.switch_config.cfg',
    data: { clone_on: t.clone ? 1 : 0, vip: setup.vip >>> 0, clone_session: setup.cloneSession },
    isDefault: true,
  });
  out.push({ table: P4.burstWindow, key: {}, action: `PallasIngress.burst_window.window_${t.tauShift}`, data: {}, isDefault: true });
  out.push({ table: P4.typeToGroup, key: {}, action: 'PallasIngress.shaper.unmapped', data: { group: t.defaultGroup }, isDefault: true });
  for (const [k, g] of Object.entries(t.typeToGroup).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    if (!(g >= 0 && g < t.groups.length)) throw new PallasError('BAD_POLICY', `type ${k} maps to a group that does not exist`);
    out.push({
      table: P4.typeToGroup,
      key: { 'hdr.pallas.type': Number(k) },
      action: 'PallasIngress.shaper.set_group',
      data: { group: g },
    });
  }
  let rows = 0;
  t.groups.forEach((grp, g) => {
    const live = grp.wrr.filter((e) => e.weight > 0);
    for (const e of live)
      if (!(e.server >= 0 && e.server < SWITCH.maxServers)) throw new PallasError('BAD_POLICY', `group ${g} names server ${e.server}`);
    const total = live.reduce((a, e) => a + e.weight, 0);
    if (total > 0xffff) throw new PallasError('BAD_POLICY', `group ${g}: its weights sum to ${total} (at most 65535)`);
    if (grp.cloneTarget !== null && (grp.cloneTarget < 0 || grp.cloneTarget >= t.groups.length || grp.cloneTarget === g))
      throw new PallasError('BAD_POLICY', `group ${g}: clone target ${grp.cloneTarget} is not another group`);
    rows += live.length;
    if (total === 0) return; // no row: the group has no server, and its requests drop
    out.push({
      table: P4.groupCfg,
      key: { group: g },
      action: 'PallasIngress.group_config.cfg',
      data: {
        wrr_total: total,
        c_thres: grp.cThres >>> 0,
        clone_target: grp.cloneTarget ?? SWITCH.noGroup,
        balance: grp.balance === 'po2' ? 1 : 0,
      },
    });
    let lo = 0;
    for (const e of live) {
      const hi = lo + e.weight;
      out.push({
        table: P4.wrr,
        key: { group: g, position: { low: lo, high: hi - 1 }, $MATCH_PRIORITY: 0 },
        action: 'PallasIngress.wrr_pick.set_server',
        data: { server: e.server },
      });
      const rlo = Math.floor((PO2_SPAN * lo) / total),
        rhi = hi === total ? PO2_SPAN : Math.floor((PO2_SPAN * hi) / total);
      if (rhi > rlo) {
        for (const [table, side] of [
          [P4.po2A, 'a'],
          [P4.po2B, 'b'],
        ] as const)
          out.push({
            table,
            key: { group: g, [`rand_${side}`]: { low: rlo, high: rhi - 1 }, $MATCH_PRIORITY: 0 },
            action: `PallasIngress.po2_pick.pick_${side}`,
            data: { server: e.server, offset: 65536 - e.weight },
          });
      }
      lo = hi;
    }
  });
  if (rows > SWITCH.wrrEntries) throw new PallasError('BAD_POLICY', `more WRR rows than the table holds (${SWITCH.wrrEntries})`);
  // With every table write the counters restart (docs/switch-contract.md), in the same batch.
  for (let g = 0; g < SWITCH.maxGroups; g++) {
    out.push({ table: P4.wrrCounter, key: { $REGISTER_INDEX: g }, action: null, data: { [`${P4.wrrCounter}.f1`]: 0 } });
    out.push({ table: P4.cloneCounter, key: { $REGISTER_INDEX: g }, action: null, data: { [`${P4.cloneCounter}.f1`]: 0 } });
  }
  return out;
}

export type P4Update = { type: 'INSERT' | 'MODIFY' | 'DELETE'; entry: P4Entry };

const keyOf = (e: P4Entry) =>
  `${e.table}|${e.isDefault ? 'default' : JSON.stringify(Object.entries(e.key).sort((a, b) => a[0].localeCompare(b[0])))}`;
const same = (a: P4Entry, b: P4Entry) =>
  a.action === b.action && JSON.stringify(Object.entries(a.data).sort()) === JSON.stringify(Object.entries(b.data).sort());

/**
 * The updates that turn `prev` entries into `next` (prev null: a first write, everything inserted).
 * Register writes (counter resets) are always included; default entries are modified, never
 * inserted or deleted. Deletes come first, so that a range moved between rows never overlaps its
 * old neighbour inside the batch.
 */
export function diffP4(prev: P4Entry[] | null, next: P4Entry[]): P4Update[] {
  const before = new Map((prev ?? []).map((e) => [keyOf(e), e]));
  const after = new Map(next.map((e) => [keyOf(e), e]));
  const dels: P4Update[] = [],
    rest: P4Update[] = [];
  for (const [k, e] of before) if (!after.has(k) && !e.isDefault && e.action !== null) dels.push({ type: 'DELETE', entry: e });
  for (const [k, e] of after) {
    const old = before.get(k);
    if (e.action === null || e.isDefault) {
      if (!old || !same(old, e) || e.action === null) rest.push({ type: 'MODIFY', entry: e });
      continue;
    }
    if (!old) rest.push({ type: 'INSERT', entry: e });
    else if (!same(old, e)) rest.push({ type: 'MODIFY', entry: e });
  }
  return [...dels, ...rest];
}

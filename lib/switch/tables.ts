// Switch tables as the control plane writes them (docs/switch-contract.md): validation of a
// hand-written table file, and the entry-level difference between two sets of tables, which is
// what an incremental update writes (a Tofino driver turns it into BFRuntime entry operations; the
// software switch swaps the whole set at once and reports the same difference).
import { bad, bool, int, list, obj, oneOf, only, type Obj } from '../config.js';
import type { SwitchTables } from './contract.js';
import { typeId } from '../runtime/config.js';
import { SWITCH } from '../wire/gen.js';

export const MAX_GROUPS = SWITCH.maxGroups;
export const WRR_ENTRIES = SWITCH.wrrEntries;

/**
 * Validates tables for a switch of `servers` servers. `typeToGroup` keys may be type names or ids.
 * BAD_CONFIG naming the field when malformed.
 */
export function normaliseTables(v: unknown, servers: number, path = 'tables'): SwitchTables {
  const o = obj(v, path);
  only(o, path, ['typeToGroup', 'defaultGroup', 'tauShift', 'clone', 'groups', 'ablation']);
  if (o.ablation !== undefined)
    bad(`${path}.ablation`, 'is simulator-only: a switch runs the realizable pipeline (docs/switch-contract.md)');
  const groups = list(o, 'groups', path).map((g, i) => {
    const gp = `${path}.groups[${i}]`;
    const go = obj(g, gp);
    only(go, gp, ['cThres', 'cloneTarget', 'balance', 'wrr']);
    const wrr = list(go, 'wrr', gp, 0).map((e, j) => {
      const ep = `${gp}.wrr[${j}]`;
      const eo = obj(e, ep);
      only(eo, ep, ['server', 'weight']);
      return { server: int(eo, 'server', ep, 0, Math.min(servers, SWITCH.maxServers) - 1), weight: int(eo, 'weight', ep, 1, 65535, 1) };
    });
    const cloneTarget = go.cloneTarget === undefined || go.cloneTarget === null ? null : int(go, 'cloneTarget', gp, 0, MAX_GROUPS - 1);
    return {
      cThres: int(go, 'cThres', gp, 0, 2 ** 32 - 1, 0),
      cloneTarget,
      balance: oneOf(go, 'balance', gp, ['wrr', 'po2'] as const, 'wrr'),
      wrr,
    };
  });
  if (groups.length > MAX_GROUPS) bad(`${path}.groups`, `at most ${MAX_GROUPS} groups`);
  if (groups.reduce((a, g) => a + g.wrr.length, 0) > WRR_ENTRIES) bad(`${path}.groups`, `at most ${WRR_ENTRIES} WRR rows in all`);
  groups.forEach((g, i) => {
    if (g.cloneTarget !== null && (g.cloneTarget >= groups.length || g.cloneTarget === i))
      bad(`${path}.groups[${i}].cloneTarget`, 'must name another group (or be null)');
  });
  const typeToGroup: Record<string, number> = {};
  if (o.typeToGroup !== undefined) {
    const m: Obj = obj(o.typeToGroup, `${path}.typeToGroup`);
    for (const k of Object.keys(m))
      typeToGroup[String(typeId(k, `${path}.typeToGroup.${k}`))] = int(m, k, `${path}.typeToGroup`, 0, groups.length - 1);
  }
  return {
    typeToGroup,
    defaultGroup: int(o, 'defaultGroup', path, 0, groups.length - 1, 0),
    tauShift: int(o, 'tauShift', path, SWITCH.tauShiftMin, SWITCH.tauShiftMax, SWITCH.tauShiftDefault),
    clone: bool(o, 'clone', path, true),
    groups,
  };
}

/** One group with every server at weight 1: what a switch runs before the control plane speaks. */
export function singleGroupTables(servers: number): SwitchTables {
  return {
    typeToGroup: {},
    defaultGroup: 0,
    tauShift: SWITCH.tauShiftDefault,
    clone: false,
    groups: [
      { cThres: 0, cloneTarget: null, balance: 'wrr', wrr: Array.from({ length: servers }, (_, server) => ({ server, weight: 1 })) },
    ],
  };
}

export type TableOp =
  | { op: 'add' | 'modify' | 'delete'; table: 'type_to_group'; type: number; group?: number }
  | { op: 'add' | 'modify' | 'delete'; table: 'wrr'; group: number; server: number; weight?: number }
  | { op: 'modify'; table: 'group_cfg'; group: number; field: 'c_thres' | 'clone_target' | 'balance'; value: number | string | null }
  | { op: 'modify'; table: 'default_group' | 'tau_shift' | 'clone'; value: number | boolean };

/** The entry operations that turn `prev` into `next` (prev null: everything is an add). */
export function diffTables(prev: SwitchTables | null, next: SwitchTables): TableOp[] {
  const ops: TableOp[] = [];
  const pt = prev?.typeToGroup ?? {};
  for (const [k, g] of Object.entries(next.typeToGroup)) {
    if (!(k in pt)) ops.push({ op: 'add', table: 'type_to_group', type: Number(k), group: g });
    else if (pt[k] !== g) ops.push({ op: 'modify', table: 'type_to_group', type: Number(k), group: g });
  }
  for (const k of Object.keys(pt)) if (!(k in next.typeToGroup)) ops.push({ op: 'delete', table: 'type_to_group', type: Number(k) });
  const n = Math.max(prev?.groups.length ?? 0, next.groups.length);
  for (let g = 0; g < n; g++) {
    const a = new Map((prev?.groups[g]?.wrr ?? []).map((e) => [e.server, e.weight]));
    const b = new Map((next.groups[g]?.wrr ?? []).map((e) => [e.server, e.weight]));
    for (const [server, weight] of b) {
      if (!a.has(server)) ops.push({ op: 'add', table: 'wrr', group: g, server, weight });
      else if (a.get(server) !== weight) ops.push({ op: 'modify', table: 'wrr', group: g, server, weight });
    }
    for (const server of a.keys()) if (!b.has(server)) ops.push({ op: 'delete', table: 'wrr', group: g, server });
    const pg = prev?.groups[g];
    const ng = next.groups[g];
    if (ng && pg?.cThres !== ng.cThres) ops.push({ op: 'modify', table: 'group_cfg', group: g, field: 'c_thres', value: ng.cThres });
    if (ng && pg?.cloneTarget !== ng.cloneTarget)
      ops.push({ op: 'modify', table: 'group_cfg', group: g, field: 'clone_target', value: ng.cloneTarget });
    if (ng && pg?.balance !== ng.balance) ops.push({ op: 'modify', table: 'group_cfg', group: g, field: 'balance', value: ng.balance });
  }
  if (prev?.defaultGroup !== next.defaultGroup) ops.push({ op: 'modify', table: 'default_group', value: next.defaultGroup });
  if (prev?.tauShift !== next.tauShift) ops.push({ op: 'modify', table: 'tau_shift', value: next.tauShift });
  if (prev?.clone !== next.clone) ops.push({ op: 'modify', table: 'clone', value: next.clone });
  return ops;
}

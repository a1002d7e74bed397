// The Pallas policy generator (paper §4.3–4.4): from a workload estimate (per type:
// mean execution time and share, as the switch's monitor reports them) and the rack's servers,
//   a. candidate groupings: k-means for k = 1 … number of types;
//   b. for each, provisioning by eq. (1) at core granularity, packing so that few servers serve
//      several groups, WRR weights, C_thres per group, an intra-server policy per server (cfcfs
//      for one group, darc with reservations for several);
//   c. selection of the candidate with the lowest p99 by simulation (an injected evaluator, so
//      that tests and the live control plane can choose how to simulate);
// and, for adaptation, the drift of demand against allocation and an incremental re-plan that
// keeps as many servers in their roles as it can. The simulator (lib/sim) and the live control
// plane both call this module; there is no second generator.
import { PallasError } from '../errors.js';
import { SWITCH } from '../wire/gen.js';
import type { Ablation, Balance, SwitchTables } from '../switch/contract.js';

/** What the control plane knows of one request type. `type` is the wire type (the simulator's type index). */
export interface TypeEstimate {
  type: number;
  name: string;
  meanNs: number;
  share: number;
}
export interface RackServer {
  id: number;
  cores: number;
}

export interface PlanGroup {
  types: number[]; // wire types, shortest mean first
  meanNs: number; // the group's mean execution time (share-weighted over its types)
  demand: number; // D_g of eq. (1): fraction of the rack's CPU the group needs
  cores: number; // R_g at core granularity
  cThres: number; // requests per τ window its cores absorb: cores · τ / meanNs
  cloneTarget: number | null; // the group its excess is cloned to (a longer group), or none
  balance: Balance;
}
export interface ServerRole {
  group: number;
  cores: number;
}
export type ServerPolicy =
  { kind: 'cfcfs' } | { kind: 'darc'; darc: { groups: { types: number[]; workers: number }[]; ownerFirst: boolean } };
export interface ServerPlan {
  server: number;
  roles: ServerRole[];
  types: number[];
  policy: ServerPolicy;
}
// The tables are the switch contract's (lib/switch/contract.ts); re-exported for the control plane's users.
export type { Ablation, Balance, SwitchTables };
export interface Plan {
  groups: PlanGroup[];
  servers: ServerPlan[];
  tables: SwitchTables;
  totalCores: number;
}

export interface PlanOptions {
  tauShift?: number; // burst window τ = 2^tauShift ns (14: 16.4 µs)
  ablation?: Ablation; // simulator-only: the paper's ideal rules instead of the realizable ones
  balance?: Balance | Balance[]; // per group (shortest first), or for every group with more than one server (default wrr)
  clone?: boolean; // burst cloning on
  cThresFactor?: number; // scales every C_thres (1: the capacity of the group's cores per window)
  groups?: number; // consider only the candidate with this many groups (an operator's fixed grouping)
  ownerFirst?: boolean; // mixed servers' DARC serves a freed core's own group first (default true)
  /**
   * DARC's reservation rule (the native darc_reserve), for servers dedicated to a group of several
   * types (`within`). Without it every server of one group runs cFCFS.
   */
  darcWithin?: DarcReserveFn;
  /**
   * How a server dedicated to a group of several types (types far apart, by DARC's 20 % rule)
   * schedules them: one FIFO (cfcfs); DARC with Perséphone's reservation (darc: what RackSched's
   * servers run, so that the one-group candidate is RS-DARC's structure balanced by the switch's
   * own counts); or shortest first without reserved cores (priority: a freed core takes the
   * shortest type waiting; work-conserving).
   */
  within?: Within;
  /** The estimated load (fraction of the rack's capacity): provisioning staffs spare cores by square root (`staffed`). */
  load?: number;
  /** generate(): the variants to evaluate per grouping (default ALL_VARIANTS). */
  variants?: PlanVariant[];
  /**
   * Per group (shortest first), cores added to (or taken from) what provisioning gives, summing to
   * zero; a group keeps at least one core. generate() evaluates, around its best candidate of
   * several groups, the allocations one core away from provisioning's between neighbouring groups:
   * the rounding of a small group's share is a
   * knife-edge that a 2 % error in the estimated load moves, and the simulation, not the formula,
   * should say which side is better.
   */
  adjust?: number[];
}
export type Within = 'cfcfs' | 'darc' | 'priority';

/** DARC's reservation rule (the native darc_reserve): types' means and shares → groups of types with worker counts, shortest first. */
export type DarcReserveFn = (
  types: { type: number; meanNs: number; share: number }[],
  workers: number,
) => { types: number[]; workers: number }[];
/** One way to run a grouping: the balancing of its multi-server groups, and the policy of dedicated servers of multi-type groups. */
export interface PlanVariant {
  balance: Balance;
  within: Within;
}

const TAU_SHIFT = SWITCH.tauShiftDefault;

function checkEstimate(types: TypeEstimate[], rack: RackServer[]): void {
  if (types.length === 0) throw new PallasError('BAD_POLICY', 'the workload estimate has no types');
  if (rack.length === 0) throw new PallasError('BAD_POLICY', 'the rack has no servers');
  for (const t of types) {
    if (!Number.isInteger(t.type) || t.type < 0 || t.type > 255)
      throw new PallasError('BAD_POLICY', `type ${t.name}: wire type must be 0-255`);
    if (!(t.meanNs > 0) || !Number.isFinite(t.meanNs))
      throw new PallasError('BAD_POLICY', `type ${t.name}: mean execution time must be > 0`);
    if (!(t.share >= 0) || !Number.isFinite(t.share)) throw new PallasError('BAD_POLICY', `type ${t.name}: share must be >= 0`);
  }
  if (!types.some((t) => t.share > 0)) throw new PallasError('BAD_POLICY', 'no type has a positive share');
  const ids = new Set<number>();
  for (const s of rack) {
    if (!Number.isInteger(s.cores) || s.cores < 1) throw new PallasError('BAD_POLICY', `server ${s.id} needs at least one core`);
    if (ids.has(s.id)) throw new PallasError('BAD_POLICY', `server ${s.id} is listed twice`);
    ids.add(s.id);
  }
}

/**
 * k-means over the types, exact in one dimension: the feature is log(mean execution time), each
 * type weighted by its share, so heavy types pull their group's centre. In one dimension optimal
 * clusters are contiguous in sorted order, so dynamic programming finds the exact optimum (no
 * random restarts, deterministic). Types with share 0 join the group nearest their mean.
 * Returns groups of wire types, shortest first.
 */
export function kmeans(types: TypeEstimate[], k: number): number[][] {
  const live = types.filter((t) => t.share > 0).sort((a, b) => a.meanNs - b.meanNs || a.type - b.type);
  const n = live.length;
  if (k < 1 || k > n) throw new PallasError('BAD_POLICY', `k must be in 1..${n}`);
  const x = live.map((t) => Math.log(t.meanNs));
  const w = live.map((t) => t.share);
  // Prefix sums for the weighted sum of squares of x[i..j].
  const W = [0],
    S = [0],
    Q = [0];
  for (let i = 0; i < n; i++) {
    W.push(W[i]! + w[i]!);
    S.push(S[i]! + w[i]! * x[i]!);
    Q.push(Q[i]! + w[i]! * x[i]! * x[i]!);
  }
  const cost = (i: number, j: number) => {
    // items i..j-1
    const ww = W[j]! - W[i]!,
      ss = S[j]! - S[i]!;
    return Math.max(0, Q[j]! - Q[i]! - (ss * ss) / ww);
  };
  // best[c][j]: clusters c over the first j items.
  const best: number[][] = [],
    cut: number[][] = [];
  for (let c = 0; c <= k; c++) {
    best.push(new Array<number>(n + 1).fill(Infinity));
    cut.push(new Array<number>(n + 1).fill(0));
  }
  best[0]![0] = 0;
  for (let c = 1; c <= k; c++)
    for (let j = c; j <= n; j++)
      for (let i = c - 1; i < j; i++) {
        const v = best[c - 1]![i]! + cost(i, j);
        if (v < best[c]![j]! - 1e-15) {
          best[c]![j] = v;
          cut[c]![j] = i;
        }
      }
  const groups: number[][] = [];
  let j = n;
  for (let c = k; c >= 1; c--) {
    const i = cut[c]![j]!;
    groups.unshift(live.slice(i, j).map((t) => t.type));
    j = i;
  }
  for (const t of types.filter((t) => t.share <= 0)) {
    let g = 0,
      d = Infinity;
    groups.forEach((grp, gi) => {
      for (const ty of grp) {
        const m = types.find((l) => l.type === ty)!.meanNs;
        const dd = Math.abs(Math.log(m) - Math.log(t.meanNs));
        if (dd < d) {
          d = dd;
          g = gi;
        }
      }
    });
    groups[g]!.push(t.type);
  }
  return groups;
}

/** Candidate groupings, one per k = 1 … number of types with a positive share. */
export function candidates(types: TypeEstimate[]): number[][][] {
  const n = types.filter((t) => t.share > 0).length;
  const out: number[][][] = [];
  for (let k = 1; k <= n; k++) out.push(kmeans(types, k));
  return out;
}

/** The per-type demand D_r of eq. (1): E_r · φ_r / Σ_i E_i · φ_i. */
export function typeDemands(types: TypeEstimate[]): Map<number, number> {
  const total = types.reduce((a, t) => a + t.meanNs * t.share, 0);
  return new Map(types.map((t) => [t.type, total > 0 ? (t.meanNs * t.share) / total : 0]));
}

/**
 * Square-root staffing of the rack's spare cores: at `load`, group g keeps a_g = D_g · R · load
 * cores busy, and gets a_g + β·√a_g, with β such that the groups fill the rack. A small group
 * waits longer than a large one at the same utilisation (fewer cores to share its queue), so it
 * gets relatively more headroom; as the load nears 1 the spare cores vanish and this becomes eq. (1).
 */
export function staffed(shares: number[], totalCores: number, load: number): number[] {
  const a = shares.map((d) => d * totalCores * load);
  const roots = a.reduce((s, x) => s + Math.sqrt(x), 0);
  const beta = roots > 0 ? (totalCores - a.reduce((s, x) => s + x, 0)) / roots : 0;
  return a.map((x) => x + beta * Math.sqrt(x));
}

/**
 * Eq. (1) at core granularity: R_g = D_g / Σ D · R_total rounded to whole cores, down or up, so
 * that the groups sum to R_total exactly and each gets at least one core (a group without cores
 * could not be served). Of those roundings, the one that minimises the highest load per core,
 * max_g D_g / R_g, is chosen: the most loaded group saturates first, and the rack's throughput
 * depends on it. (Largest remainder would round a 1.45-core group down to 1 core, saturating it
 * at 69 % load while a 78.55-core group keeps 79.) So the cores left after rounding down go to
 * the groups with the highest D_g / R_g, at most one each. Each group ends within one core of its
 * exact share unless the one-core floor forces more. With the load known, the exact shares are
 * square-root staffed first (`staffed`). Returns null when there are more groups than cores.
 */
export function provision(demands: number[], totalCores: number, load?: number): number[] | null {
  const G = demands.length;
  if (G > totalCores) return null;
  const sum = demands.reduce((a, b) => a + b, 0);
  const exact =
    load !== undefined && load > 0 && load < 1 && sum > 0
      ? staffed(
          demands.map((d) => d / sum),
          totalCores,
          load,
        )
      : demands.map((d) => (sum > 0 ? (d / sum) * totalCores : totalCores / G));
  const cores = exact.map((e) => Math.max(1, Math.floor(e)));
  let left = totalCores - cores.reduce((a, b) => a + b, 0);
  const perCore = (g: number) => exact[g]! / cores[g]!;
  const order = exact.map((_, g) => g).sort((a, b) => perCore(b) - perCore(a) || a - b);
  for (let i = 0; i < G && left > 0; i++) {
    if (cores[order[i]!]! < exact[order[i]!]!) {
      cores[order[i]!]!++;
      left--;
    }
  }
  for (let i = 0; left > 0; i = (i + 1) % G) {
    cores[order[i]!]!++;
    left--;
  } // floating-point slack only
  while (left < 0) {
    // the one-core floor overshot: take from the group that stays least loaded per core
    let g = -1;
    for (let h = 0; h < G; h++) if (cores[h]! > 1 && (g < 0 || exact[h]! / (cores[h]! - 1) < exact[g]! / (cores[g]! - 1))) g = h;
    cores[g]!--;
    left++;
  }
  return cores;
}

/** A server's groups by their type sets, for comparing plans whose group numbering differs. */
function roleKey(plan: Pick<Plan, 'groups'>, roles: ServerRole[]): string {
  return roles
    .map((r) =>
      plan.groups[r.group]!.types.slice()
        .sort((a, b) => a - b)
        .join(','),
    )
    .sort()
    .join('|');
}

/**
 * Places each group's cores on servers. From scratch: contiguously, shortest group on the lowest
 * servers (the paper's Fig. 5: 12 cores are server 0 and 2 cores of server 1), so at most G − 1
 * servers are mixed. Incrementally (a previous plan): a server keeps its role when the new plan
 * can still use it — a dedicated server stays with the group of the same types, a mixed server
 * keeps its groups with new core counts — and only the rest is placed, contiguously.
 */
export function pack(groups: Pick<PlanGroup, 'types' | 'cores'>[], rack: RackServer[], previous?: Plan): ServerRole[][] {
  const need = groups.map((g) => g.cores);
  const roles: (ServerRole[] | null)[] = rack.map(() => null);
  const key = (types: number[]) =>
    types
      .slice()
      .sort((a, b) => a - b)
      .join(',');
  const groupOfKey = new Map(groups.map((g, i) => [key(g.types), i]));
  if (previous) {
    const prevRoles = new Map(previous.servers.map((s) => [s.server, s.roles]));
    // Dedicated servers keep their group.
    rack.forEach((s, i) => {
      const pr = prevRoles.get(s.id);
      if (!pr || pr.length !== 1) return;
      const g = groupOfKey.get(key(previous.groups[pr[0]!.group]!.types));
      if (g !== undefined && need[g]! >= s.cores) {
        roles[i] = [{ group: g, cores: s.cores }];
        need[g]! -= s.cores;
      }
    });
    // Mixed servers keep their groups, with new counts, while every group still needs cores.
    rack.forEach((s, i) => {
      const pr = prevRoles.get(s.id);
      if (roles[i] || !pr || pr.length < 2) return;
      const gs = pr.map((r) => groupOfKey.get(key(previous.groups[r.group]!.types)));
      if (gs.some((g) => g === undefined || need[g]! < 1) || new Set(gs).size !== gs.length) return;
      const ids = gs as number[];
      // Split the server's cores: each group gets at least one, at most what it still needs,
      // close to its old count; the longest group takes up any slack.
      const counts = ids.map((g, j) => Math.max(1, Math.min(need[g]!, pr[j]!.cores)));
      let total = counts.reduce((a, b) => a + b, 0);
      for (let j = ids.length - 1; j >= 0 && total < s.cores; j--) {
        const add = Math.min(s.cores - total, need[ids[j]!]! - counts[j]!);
        counts[j]! += add;
        total += add;
      }
      for (let j = ids.length - 1; j >= 0 && total > s.cores; j--) {
        const cut = Math.min(total - s.cores, counts[j]! - 1);
        counts[j]! -= cut;
        total -= cut;
      }
      if (total !== s.cores) return;
      roles[i] = ids.map((g, j) => ({ group: g, cores: counts[j]! }));
      ids.forEach((g, j) => {
        need[g]! -= counts[j]!;
      });
    });
  }
  // What is left goes onto the free servers in order, shortest group first, contiguously: a group
  // fills a server before spilling onto the next, so only servers where one group ends and the
  // next begins are mixed (at most G − 1), and they mix groups adjacent in execution time.
  const free = rack.map((s, i) => i).filter((i) => !roles[i]);
  let fi = 0,
    left = free.length ? rack[free[0]!]!.cores : 0;
  const acc: ServerRole[][] = free.map(() => []);
  for (let g = 0; g < groups.length; g++) {
    let n = need[g];
    while (n! > 0) {
      if (fi >= free.length) throw new PallasError('BAD_POLICY', 'the groups need more cores than the rack has');
      const take = Math.min(n!, left);
      acc[fi]!.push({ group: g, cores: take });
      n = n! - take;
      left -= take;
      if (left === 0 && ++fi < free.length) left = rack[free[fi]!]!.cores;
    }
  }
  free.forEach((i, j) => {
    roles[i] = acc[j]!;
  });
  return roles.map((r) => r ?? []);
}

/**
 * The intra-server policy of a server with these roles: cfcfs for one group, darc with a core
 * reservation per group otherwise. With `reserve` (DARC's reservation over a group's types) and
 * `within` darc or priority, a server dedicated to a group of several types runs DARC over them
 * (shortest first), when the reservation separates them: with Perséphone's reserved cores, or
 * (priority) with every core in the longest type group's reservation, so that shorter types have
 * no core of their own and go first on any freed core.
 */
export function serverPolicy(
  groups: Pick<PlanGroup, 'types'>[],
  roles: ServerRole[],
  ownerFirst = true,
  reserve?: (types: number[], workers: number) => { types: number[]; workers: number }[],
  within: Within = 'cfcfs',
): ServerPolicy {
  if (roles.length === 1 && reserve && within !== 'cfcfs' && groups[roles[0]!.group]!.types.length > 1) {
    const cores = roles[0]!.cores;
    const res = reserve(groups[roles[0]!.group]!.types, cores);
    if (res.length > 1) {
      const gs = within === 'priority' ? res.map((g, i) => ({ types: g.types, workers: i === res.length - 1 ? cores : 0 })) : res;
      return { kind: 'darc', darc: { groups: gs, ownerFirst: false } };
    }
  }
  if (roles.length <= 1) return { kind: 'cfcfs' };
  const sorted = roles.slice().sort((a, b) => a.group - b.group); // groups are shortest first
  // Owner first: each fragment is capacity the switch's WRR counts on, so a freed core serves its
  // own group before a shorter group's backlog (which may still take it when its own queue is empty).
  return { kind: 'darc', darc: { groups: sorted.map((r) => ({ types: groups[r.group]!.types.slice(), workers: r.cores })), ownerFirst } };
}

/**
 * Where a group's burst excess is cloned: to a group of longer requests (a clone then holds a core
 * there for less than that group's own requests take, never a shorter group's core for longer), the
 * one with the most cores (the most likely to have one idle), ties to the longest. The longest
 * group has none: its excess is never cloned.
 */
export function cloneTargets(groups: Pick<PlanGroup, 'meanNs' | 'cores'>[]): (number | null)[] {
  return groups.map((g, gi) => {
    let best: number | null = null;
    groups.forEach((h, hi) => {
      if (hi === gi || h.meanNs <= g.meanNs) return;
      if (best === null || h.cores > groups[best]!.cores || (h.cores === groups[best]!.cores && h.meanNs >= groups[best]!.meanNs))
        best = hi;
    });
    return best;
  });
}

/** Builds the whole plan for one grouping. */
export function buildPlan(
  types: TypeEstimate[],
  grouping: number[][],
  rack: RackServer[],
  opts: PlanOptions = {},
  previous?: Plan,
): Plan | null {
  checkEstimate(types, rack);
  const tauShift = opts.tauShift ?? TAU_SHIFT;
  const tauNs = opts.ablation?.tauNs ?? 2 ** tauShift;
  const byType = new Map(types.map((t) => [t.type, t]));
  const dem = typeDemands(types);
  const totalCores = rack.reduce((a, s) => a + s.cores, 0);
  const gs = grouping
    .map((g) => {
      const ts = g.slice().sort((a, b) => byType.get(a)!.meanNs - byType.get(b)!.meanNs || a - b);
      const share = ts.reduce((a, t) => a + byType.get(t)!.share, 0);
      const meanNs =
        share > 0
          ? ts.reduce((a, t) => a + byType.get(t)!.meanNs * byType.get(t)!.share, 0) / share
          : ts.reduce((a, t) => a + byType.get(t)!.meanNs, 0) / ts.length;
      return { types: ts, meanNs, demand: ts.reduce((a, t) => a + (dem.get(t) ?? 0), 0) };
    })
    .sort((a, b) => a.meanNs - b.meanNs);
  const cores = provision(
    gs.map((g) => g.demand),
    totalCores,
    opts.load,
  );
  if (!cores) return null;
  if (opts.adjust) {
    if (opts.adjust.length !== cores.length || opts.adjust.reduce((a, b) => a + b, 0) !== 0)
      throw new PallasError('BAD_POLICY', 'a core adjustment needs one sum-zero entry per group');
    opts.adjust.forEach((d, i) => {
      cores[i]! += d;
    });
    if (cores.some((c) => c < 1)) return null;
  }
  const targets = cloneTargets(gs.map((g, i) => ({ meanNs: g.meanNs, cores: cores[i]! })));
  const groups: PlanGroup[] = gs.map((g, i) => ({
    ...g,
    cores: cores[i]!,
    cThres: Math.max(1, Math.round(((opts.cThresFactor ?? 1) * cores[i]! * tauNs) / g.meanNs)),
    cloneTarget: targets[i]!,
    balance: 'wrr',
  }));
  const roles = pack(groups, rack, previous);
  const reserve = opts.darcWithin;
  const within = reserve
    ? (ts: number[], workers: number) =>
        reserve(
          ts.map((t) => ({ type: t, meanNs: byType.get(t)!.meanNs, share: byType.get(t)!.share })),
          workers,
        )
    : undefined;
  const servers: ServerPlan[] = rack.map((s, i) => ({
    server: s.id,
    roles: roles[i]!,
    types: roles[i]!.flatMap((r) => groups[r.group]!.types).sort((a, b) => a - b),
    policy: serverPolicy(groups, roles[i]!, opts.ownerFirst ?? true, within, opts.within),
  }));
  groups.forEach((g, gi) => {
    const n = servers.filter((s) => s.roles.some((r) => r.group === gi)).length;
    const want = Array.isArray(opts.balance) ? (opts.balance[gi] ?? 'wrr') : (opts.balance ?? 'wrr');
    g.balance = n > 1 ? want : 'wrr'; // one server: nothing to choose between
  });
  const typeToGroup: Record<string, number> = {};
  groups.forEach((g, gi) => {
    for (const t of g.types) typeToGroup[String(t)] = gi;
  });
  const tables: SwitchTables = {
    typeToGroup,
    defaultGroup: groups.length - 1, // an unknown type goes with the longest requests: it cannot hold up short ones
    tauShift,
    clone: opts.clone ?? true,
    groups: groups.map((g, gi) => ({
      cThres: g.cThres,
      cloneTarget: g.cloneTarget,
      balance: g.balance,
      wrr: servers.flatMap((s) => s.roles.filter((r) => r.group === gi).map((r) => ({ server: s.server, weight: r.cores }))),
    })),
    ...(opts.ablation && Object.keys(opts.ablation).length ? { ablation: opts.ablation } : {}),
  };
  return { groups, servers, tables, totalCores };
}

/** Servers whose set of served types differs between two plans (they change role). */
export function movedServers(a: Plan, b: Plan): number[] {
  const ka = new Map(a.servers.map((s) => [s.server, roleKey(a, s.roles)]));
  return b.servers.filter((s) => ka.get(s.server) !== roleKey(b, s.roles)).map((s) => s.server);
}

/** Servers whose policy changed at all (role or reservation), i.e. those an update must touch. */
export function changedServers(a: Plan, b: Plan): number[] {
  const pa = new Map(a.servers.map((s) => [s.server, JSON.stringify([s.types, s.policy])]));
  return b.servers.filter((s) => pa.get(s.server) !== JSON.stringify([s.types, s.policy])).map((s) => s.server);
}

/**
 * The drift of eq. (1) demand against the plan's allocation, in cores: Σ_g |R_g − D_g · R_total|
 * with D_g recomputed from the estimate over the plan's groups, or, with the load known, against the
 * square-root staffed targets at that load (what provisioning would give the same groups now).
 * Types the plan does not know count with the group the switch sends them to (the default group).
 */
export function drift(plan: Plan, types: TypeEstimate[], load?: number): number {
  const dem = typeDemands(types);
  const total = plan.totalCores;
  const groupOf = (t: number) => plan.tables.typeToGroup[String(t)] ?? plan.tables.defaultGroup;
  const share = plan.groups.map(() => 0);
  for (const t of types) share[groupOf(t.type)]! += dem.get(t.type) ?? 0;
  const want = load !== undefined && load > 0 && load < 1 ? staffed(share, total, load) : share.map((d) => d * total);
  return plan.groups.reduce((a, g, i) => a + Math.abs(g.cores - want[i]!), 0);
}

/**
 * Groups that are overloaded now and short of their share: the requests they receive need more
 * cores than they have (at `rateRps` in all), and the workload's mix gives them at least
 * `marginCores` more than they have (a window mean of a high-variance type is noisy; a core or two
 * is within its noise). δ filters noise in the summed drift; a saturated group is not noise, whatever δ is.
 */
export function overloadedGroups(plan: Plan, types: TypeEstimate[], rateRps: number, marginCores = 2): number[] {
  const dem = typeDemands(types);
  const groupOf = (t: number) => plan.tables.typeToGroup[String(t)] ?? plan.tables.defaultGroup;
  const busy = plan.groups.map(() => 0),
    want = plan.groups.map(() => 0);
  for (const t of types) {
    busy[groupOf(t.type)]! += rateRps * t.share * t.meanNs * 1e-9;
    want[groupOf(t.type)]! += (dem.get(t.type) ?? 0) * plan.totalCores;
  }
  return plan.groups.flatMap((g, i) => (busy[i]! > g.cores && want[i]! >= g.cores + marginCores ? [i] : []));
}

export interface CandidateReport {
  k: number;
  adjusted: boolean; // its allocation is one core away from provisioning's between two neighbouring groups
  groups: string[][];
  cores: number[];
  balance: Balance[];
  within: Within;
  p99Us: number;
  perTypeP99Us: Record<string, number>;
  saturated: boolean;
  mixedServers: number;
  score: number; // choose(): the worst of its overall p99 over the best, and each type's over that type's best / TYPE_SLACK
  vsRackSched: number | null; // choose(): how far it is from never losing to RackSched's structures (≤ 1: it does not lose)
}
/** A candidate's simulated tail: overall and per wire type (keys are type ids). */
export interface Evaluation {
  p99Us: number;
  saturated: boolean;
  perTypeP99Us?: Record<string, number>;
}
export type Evaluator = (plan: Plan) => Promise<Evaluation>;

export interface GenerateResult {
  plan: Plan;
  chosen: number;
  candidates: CandidateReport[];
}

/** Scores within this factor of each other are a tie (the simulated p99s' noise). */
export const SCORE_TIE = 1.03;
/** How much worse than its best a type's p99 may get when that buys a lower overall p99. */
export const TYPE_SLACK = 1.2;
/** How much worse than under RackSched's DARC structure a type's p99 may be in a plan that never loses to RackSched. */
export const RS_TYPE_SLACK = 1.2;

/**
 * The candidates that have RackSched's structure (one group on every server, po2 on the switch's
 * outstanding counts): with cFCFS servers (RS-cFCFS) and with DARC servers (RS-DARC). Indices into
 * the evaluations; either may be absent.
 */
export interface Yardsticks {
  cfcfs?: number;
  darc?: number;
}

/**
 * How far a candidate is from never losing to RackSched, by the simulation: the worst of its
 * overall p99 over the better RackSched structure's, and of each type's p99 over that type's under
 * the DARC structure divided by RS_TYPE_SLACK. At most 1: it does not lose. Null without an
 * unsaturated yardstick.
 */
export function rackSchedRatio(evals: Evaluation[], ys: Yardsticks): (number | null)[] {
  const live = [ys.cfcfs, ys.darc].filter((i): i is number => i !== undefined && !evals[i]!.saturated);
  if (live.length === 0) return evals.map(() => null);
  const refAll = Math.min(...live.map((i) => evals[i]!.p99Us));
  // A type's yardstick is its tail under DARC's reservation even when the DARC structure saturates
  // (the longest types starve there, the short ones are still served as DARC serves them).
  const perType = evals[ys.darc ?? live[0]!]!.perTypeP99Us ?? {};
  return evals.map((e) => {
    if (e.saturated) return Infinity;
    let r = refAll > 0 ? e.p99Us / refAll : 1;
    for (const [k, ref] of Object.entries(perType)) if (ref > 0) r = Math.max(r, (e.perTypeP99Us?.[k] ?? Infinity) / ref / RS_TYPE_SLACK);
    return r;
  });
}

/**
 * Scores candidates on the overall tail and on every type's tail (Pallas must not lose
 * to RackSched, and no type is sacrificed to improve the overall figure).
 *
 * The score compares each candidate with the best of all: the best overall p99 any candidate
 * reaches and, per type, the best p99 any candidate gives it. It is the worst of the candidate's
 * overall p99 over the best, and of each type's p99 over that type's best divided by TYPE_SLACK.
 * Scores within SCORE_TIE are a tie, broken by the lower overall p99. Unsaturated candidates always
 * beat saturated ones (which are no yardstick either).
 *
 * With yardsticks (the candidates of RackSched's structure), the choice is first among the
 * candidates that do not lose to RackSched (`rackSchedRatio` ≤ 1), by score; when none does (the
 * best overall tail and the best short-type tail need plans too far apart), the one whose worse
 * of the two (score, RackSched ratio) is least. In a tie, a candidate with provisioning's own
 * allocation beats one a core away (`adjusted`). Returns the chosen index, every score and every
 * RackSched ratio.
 */
/**
 * What `choose` orders candidates by: each candidate's score and RackSched ratio, whether it may be
 * chosen, and its key (lower is better; within SCORE_TIE of each other, a tie).
 */
export function selectionKeys(
  evals: Evaluation[],
  ys: Yardsticks = {},
): { score: number[]; vsRackSched: (number | null)[]; eligible: boolean[]; key: number[] } {
  const pool = evals.some((e) => !e.saturated) ? evals.map((e) => !e.saturated) : evals.map(() => true);
  const bestAll = Math.min(...evals.filter((_, i) => pool[i]).map((e) => e.p99Us));
  const refs = new Map<string, number>();
  evals.forEach((e, i) => {
    if (!pool[i]) return;
    for (const [k, v] of Object.entries(e.perTypeP99Us ?? {})) refs.set(k, Math.min(refs.get(k) ?? Infinity, v));
  });
  const ratio = (v: number, best: number) => (best > 0 ? v / best : 1);
  const score = evals.map((e) => {
    let r = ratio(e.p99Us, bestAll);
    for (const [k, ref] of refs) r = Math.max(r, ratio(e.perTypeP99Us?.[k] ?? Infinity, ref) / TYPE_SLACK);
    return r;
  });
  const vs = rackSchedRatio(evals, ys);
  // Among the candidates that do not lose to RackSched, the best score; when none is left, the
  // candidate whose worse of the two (distance from the best of all, from RackSched) is least.
  const ok = evals.map((_, i) => pool[i]! && (vs[i] ?? 0) <= 1);
  const anyOk = ok.some(Boolean);
  return { score, vsRackSched: vs, eligible: anyOk ? ok : pool, key: score.map((x, i) => (anyOk ? x : Math.max(x, vs[i] ?? 0))) };
}

export function choose(
  evals: Evaluation[],
  ys: Yardsticks = {},
  adjusted: boolean[] = [],
): { best: number; score: number[]; vsRackSched: (number | null)[] } {
  const { score, vsRackSched: vs, eligible, key } = selectionKeys(evals, ys);
  let best = -1;
  evals.forEach((e, i) => {
    if (!eligible[i]) return;
    if (best < 0) {
      best = i;
      return;
    }
    const a = key[i]!,
      b = key[best]!;
    if (a * SCORE_TIE < b) {
      best = i;
      return;
    }
    if (!(a < b * SCORE_TIE)) return;
    // A tie: provisioning's own allocation before one a core away, then the lower overall p99.
    const adj = (j: number) => (adjusted[j] ? 1 : 0);
    if (adj(i) < adj(best) || (adj(i) === adj(best) && e.p99Us < evals[best]!.p99Us)) best = i;
  });
  return { best, score, vsRackSched: vs };
}

/** The default variants: per grouping, WRR and po2 balancing, each with every policy within multi-type groups (where it differs). */
export const ALL_VARIANTS: PlanVariant[] = (['cfcfs', 'priority', 'darc'] as const).flatMap((within) =>
  (['wrr', 'po2'] as const).map((balance) => ({ balance, within })),
);

/**
 * Steps a–c: every k-means candidate, in each variant (balancing; DARC within multi-type groups),
 * is planned (incrementally against `previous` when given) and evaluated, all at once (the
 * evaluator may run them in parallel); then, around the best candidate of several groups, the
 * allocations one core away from provisioning's between neighbouring groups are evaluated too;
 * `choose` picks one of all, with the one-group po2 candidates on cFCFS and DARC servers as the
 * RackSched yardsticks. Variants that plan identically (no multi-server group, no multi-type
 * group) are evaluated once.
 */
export async function generate(
  types: TypeEstimate[],
  rack: RackServer[],
  evaluate: Evaluator,
  opts: PlanOptions = {},
  previous?: Plan,
): Promise<GenerateResult> {
  checkEstimate(types, rack);
  const names = new Map(types.map((t) => [t.type, t.name]));
  const plans: Plan[] = [];
  const meta: { k: number; grouping: number[][]; variant: PlanVariant; adjusted: boolean }[] = [];
  const seen = new Map<string, number>();
  const ys: Yardsticks = {};
  const add = (grouping: number[][], v: PlanVariant, adjust?: number[]): void => {
    const plan = buildPlan(types, grouping, rack, { ...opts, balance: v.balance, within: v.within, adjust }, previous);
    if (!plan) return;
    const key = JSON.stringify([plan.tables, plan.servers.map((s) => s.policy)]);
    let at = seen.get(key);
    if (at === undefined) {
      at = plans.length;
      seen.set(key, at);
      plans.push(plan);
      meta.push({ k: grouping.length, grouping, variant: v, adjusted: adjust !== undefined });
    }
    // RackSched's structures: one group, po2 on the switch's counts, cFCFS or DARC servers.
    if (grouping.length === 1 && plan.groups[0]!.balance === 'po2' && !adjust) {
      if (v.within === 'cfcfs') ys.cfcfs = at;
      if (v.within === 'darc') ys.darc = at;
    }
  };
  // A fixed number of groups holds while the workload has that many types (fewer: one per type).
  const fixed = opts.groups === undefined ? undefined : Math.min(opts.groups, types.filter((t) => t.share > 0).length);
  const variants = (opts.variants ?? ALL_VARIANTS).filter((v) => v.within === 'cfcfs' || opts.darcWithin);
  for (const grouping of candidates(types)) {
    if (fixed !== undefined && grouping.length !== fixed) continue;
    for (const v of variants) add(grouping, v);
  }
  if (plans.length === 0)
    throw new PallasError(
      'BAD_POLICY',
      fixed !== undefined
        ? `${fixed} groups do not fit the rack's ${rack.reduce((a, s) => a + s.cores, 0)} cores`
        : 'no candidate grouping fits the rack (more groups than cores)',
    );
  const evals = await Promise.all(plans.map((p) => evaluate(p)));
  // Second round: around the best candidate of several groups, the allocations a core away from
  // provisioning's between neighbouring groups (a small group's rounding is a knife-edge).
  const { key, eligible } = selectionKeys(evals, ys);
  let around = -1;
  meta.forEach((m, i) => {
    if (m.k < 2 || !eligible[i]) return;
    if (around < 0 || key[i]! < key[around]! || (key[i] === key[around] && evals[i]!.p99Us < evals[around]!.p99Us)) around = i;
  });
  if (around >= 0) {
    const { grouping, variant } = meta[around]!;
    const first = plans.length;
    for (let i = 0; i + 1 < grouping.length; i++)
      for (const d of [1, -1])
        add(
          grouping,
          variant,
          Array.from({ length: grouping.length }, (_, j) => (j === i ? d : j === i + 1 ? -d : 0)),
        );
    evals.push(...(await Promise.all(plans.slice(first).map((p) => evaluate(p)))));
  }
  const { best, score, vsRackSched } = choose(
    evals,
    ys,
    meta.map((m) => m.adjusted),
  );
  const reports: CandidateReport[] = plans.map((plan, i) => ({
    k: meta[i]!.k,
    adjusted: meta[i]!.adjusted,
    groups: plan.groups.map((g) => g.types.map((t) => names.get(t) ?? String(t))),
    cores: plan.groups.map((g) => g.cores),
    balance: plan.groups.map((g) => g.balance),
    within: plan.servers.some((s) => s.policy.kind === 'darc' && s.roles.length === 1) ? meta[i]!.variant.within : 'cfcfs',
    p99Us: evals[i]!.p99Us,
    perTypeP99Us: Object.fromEntries(Object.entries(evals[i]!.perTypeP99Us ?? {}).map(([t, v]) => [names.get(Number(t)) ?? t, v])),
    saturated: evals[i]!.saturated,
    mixedServers: plan.servers.filter((s) => s.roles.length > 1).length,
    score: Math.round(score[i]! * 1000) / 1000,
    vsRackSched: vsRackSched[i] === null ? null : Math.round(vsRackSched[i]! * 1000) / 1000,
  }));
  return { plan: plans[best]!, chosen: best, candidates: reports };
}

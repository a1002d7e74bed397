// The Pallas policy generator (paper §4.3–4.4, DESIGN §1): from a workload estimate (per type:
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

/** What the control plane knows of one request type. `type` is the wire type (the simulator's type index). */
export interface TypeEstimate { type: number; name: string; meanNs: number; share: number }
export interface RackServer { id: number; cores: number }

export interface PlanGroup {
  types: number[];     // wire types, shortest mean first
  meanNs: number;      // the group's mean execution time (share-weighted over its types)
  demand: number;      // D_g of eq. (1): fraction of the rack's CPU the group needs
  cores: number;       // R_g at core granularity
  cThres: number;      // requests per τ window its cores absorb: cores · τ / meanNs
}
export interface ServerRole { group: number; cores: number }
export type ServerPolicy =
  | { kind: 'cfcfs' }
  | { kind: 'darc'; darc: { groups: { types: number[]; workers: number }[]; ownerFirst: boolean } };
export interface ServerPlan { server: number; roles: ServerRole[]; types: number[]; policy: ServerPolicy }
export interface SwitchTables {
  typeToGroup: Record<string, number>;
  defaultGroup: number;
  tauNs: number;
  clone: boolean;
  groups: { cThres: number; cloneOut: boolean; wrr: { server: number; weight: number }[] }[];
}
export interface Plan { groups: PlanGroup[]; servers: ServerPlan[]; tables: SwitchTables; totalCores: number }

export interface PlanOptions {
  tauNs?: number;          // burst window (20 µs)
  clone?: boolean;         // burst cloning on
  cThresFactor?: number;   // scales every C_thres (1: the capacity of the group's cores per window)
  groups?: number;         // consider only the candidate with this many groups (an operator's fixed grouping)
  ownerFirst?: boolean;    // mixed servers' DARC serves a freed core's own group first (default true)
}

const TAU_NS = 20_000;

function checkEstimate(types: TypeEstimate[], rack: RackServer[]): void {
  if (types.length === 0) throw new PallasError('BAD_POLICY', 'the workload estimate has no types');
  if (rack.length === 0) throw new PallasError('BAD_POLICY', 'the rack has no servers');
  for (const t of types) {
    if (!Number.isInteger(t.type) || t.type < 0 || t.type > 255) throw new PallasError('BAD_POLICY', `type ${t.name}: wire type must be 0-255`);
    if (!(t.meanNs > 0) || !Number.isFinite(t.meanNs)) throw new PallasError('BAD_POLICY', `type ${t.name}: mean execution time must be > 0`);
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
  const W = [0], S = [0], Q = [0];
  for (let i = 0; i < n; i++) {
    W.push(W[i]! + w[i]!);
    S.push(S[i]! + w[i]! * x[i]!);
    Q.push(Q[i]! + w[i]! * x[i]! * x[i]!);
  }
  const cost = (i: number, j: number) => {  // items i..j-1
    const ww = W[j]! - W[i]!, ss = S[j]! - S[i]!;
    return Math.max(0, Q[j]! - Q[i]! - (ss * ss) / ww);
  };
  // best[c][j]: clusters c over the first j items.
  const best: number[][] = [], cut: number[][] = [];
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
    let g = 0, d = Infinity;
    groups.forEach((grp, gi) => {
      for (const ty of grp) {
        const m = types.find((l) => l.type === ty)!.meanNs;
        const dd = Math.abs(Math.log(m) - Math.log(t.meanNs));
        if (dd < d) { d = dd; g = gi; }
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
 * Eq. (1) at core granularity: R_g = D_g / Σ D · R_total rounded to whole cores, down or up, so
 * that the groups sum to R_total exactly and each gets at least one core (a group without cores
 * could not be served). Of those roundings, the one that minimises the highest load per core,
 * max_g D_g / R_g, is chosen: the most loaded group saturates first, and the rack's throughput
 * depends on it. (Largest remainder would round a 1.45-core group down to 1 core, saturating it
 * at 69 % load while a 78.55-core group keeps 79.) So the cores left after rounding down go to
 * the groups with the highest D_g / R_g, at most one each. Each group ends within one core of its
 * exact share unless the one-core floor forces more. Returns null when there are more groups than cores.
 */
export function provision(demands: number[], totalCores: number): number[] | null {
  const G = demands.length;
  if (G > totalCores) return null;
  const sum = demands.reduce((a, b) => a + b, 0);
  const exact = demands.map((d) => (sum > 0 ? (d / sum) * totalCores : totalCores / G));
  const cores = exact.map((e) => Math.max(1, Math.floor(e)));
  let left = totalCores - cores.reduce((a, b) => a + b, 0);
  const perCore = (g: number) => exact[g]! / cores[g]!;
  const order = exact.map((_, g) => g).sort((a, b) => perCore(b) - perCore(a) || a - b);
  for (let i = 0; i < G && left > 0; i++) {
    if (cores[order[i]!]! < exact[order[i]!]!) { cores[order[i]!]!++; left--; }
  }
  for (let i = 0; left > 0; i = (i + 1) % G) { cores[order[i]!]!++; left--; }  // floating-point slack only
  while (left < 0) {  // the one-core floor overshot: take from the group that stays least loaded per core
    let g = -1;
    for (let h = 0; h < G; h++) if (cores[h]! > 1 && (g < 0 || exact[h]! / (cores[h]! - 1) < exact[g]! / (cores[g]! - 1))) g = h;
    cores[g]!--;
    left++;
  }
  return cores;
}

/** A server's groups by their type sets, for comparing plans whose group numbering differs. */
function roleKey(plan: Pick<Plan, 'groups'>, roles: ServerRole[]): string {
  return roles.map((r) => plan.groups[r.group]!.types.slice().sort((a, b) => a - b).join(',')).sort().join('|');
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
  const key = (types: number[]) => types.slice().sort((a, b) => a - b).join(',');
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
      ids.forEach((g, j) => { need[g]! -= counts[j]!; });
    });
  }
  // What is left goes onto the free servers in order, shortest group first, contiguously: a group
  // fills a server before spilling onto the next, so only servers where one group ends and the
  // next begins are mixed (at most G − 1), and they mix groups adjacent in execution time.
  const free = rack.map((s, i) => i).filter((i) => !roles[i]);
  let fi = 0, left = free.length ? rack[free[0]!]!.cores : 0;
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
  free.forEach((i, j) => { roles[i] = acc[j]!; });
  return roles.map((r) => r ?? []);
}

/** The intra-server policy of a server with these roles: cfcfs for one group, darc otherwise. */
export function serverPolicy(groups: Pick<PlanGroup, 'types'>[], roles: ServerRole[], ownerFirst = true): ServerPolicy {
  if (roles.length <= 1) return { kind: 'cfcfs' };
  const sorted = roles.slice().sort((a, b) => a.group - b.group);  // groups are shortest first
  // Owner first: each fragment is capacity the switch's WRR counts on, so a freed core serves its
  // own group before a shorter group's backlog (which may still take it when its own queue is empty).
  return { kind: 'darc', darc: { groups: sorted.map((r) => ({ types: groups[r.group]!.types.slice(), workers: r.cores })), ownerFirst } };
}

/** Builds the whole plan for one grouping. */
export function buildPlan(types: TypeEstimate[], grouping: number[][], rack: RackServer[], opts: PlanOptions = {}, previous?: Plan): Plan | null {
  checkEstimate(types, rack);
  const tau = opts.tauNs ?? TAU_NS;
  const byType = new Map(types.map((t) => [t.type, t]));
  const dem = typeDemands(types);
  const totalCores = rack.reduce((a, s) => a + s.cores, 0);
  const gs = grouping.map((g) => {
    const ts = g.slice().sort((a, b) => byType.get(a)!.meanNs - byType.get(b)!.meanNs || a - b);
    const share = ts.reduce((a, t) => a + byType.get(t)!.share, 0);
    const meanNs = share > 0 ? ts.reduce((a, t) => a + byType.get(t)!.meanNs * byType.get(t)!.share, 0) / share
      : ts.reduce((a, t) => a + byType.get(t)!.meanNs, 0) / ts.length;
    return { types: ts, meanNs, demand: ts.reduce((a, t) => a + (dem.get(t) ?? 0), 0) };
  }).sort((a, b) => a.meanNs - b.meanNs);
  const cores = provision(gs.map((g) => g.demand), totalCores);
  if (!cores) return null;
  const groups: PlanGroup[] = gs.map((g, i) => ({
    ...g, cores: cores[i]!, cThres: Math.max(1, Math.round(((opts.cThresFactor ?? 1) * cores[i]! * tau) / g.meanNs)),
  }));
  const roles = pack(groups, rack, previous);
  const servers: ServerPlan[] = rack.map((s, i) => ({
    server: s.id,
    roles: roles[i]!,
    types: roles[i]!.flatMap((r) => groups[r.group]!.types).sort((a, b) => a - b),
    policy: serverPolicy(groups, roles[i]!, opts.ownerFirst ?? true),
  }));
  const typeToGroup: Record<string, number> = {};
  groups.forEach((g, gi) => { for (const t of g.types) typeToGroup[String(t)] = gi; });
  const tables: SwitchTables = {
    typeToGroup,
    defaultGroup: groups.length - 1,  // an unknown type goes with the longest requests: it cannot hold up short ones
    tauNs: tau,
    clone: opts.clone ?? true,
    groups: groups.map((g, gi) => ({
      cThres: g.cThres,
      // The longest group's excess is not cloned: its clone would hold a shorter group's core
      // for longer than any request of that group (the paper sets C_thres for the short group).
      cloneOut: gi < groups.length - 1,
      wrr: servers.flatMap((s) => s.roles.filter((r) => r.group === gi).map((r) => ({ server: s.server, weight: r.cores }))),
    })),
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
 * with D_g recomputed from the estimate over the plan's groups. Types the plan does not know count
 * with the group the switch sends them to (the default group).
 */
export function drift(plan: Plan, types: TypeEstimate[]): number {
  const dem = typeDemands(types);
  const total = plan.totalCores;
  const groupOf = (t: number) => plan.tables.typeToGroup[String(t)] ?? plan.tables.defaultGroup;
  const want = plan.groups.map(() => 0);
  for (const t of types) want[groupOf(t.type)]! += (dem.get(t.type) ?? 0) * total;
  return plan.groups.reduce((a, g, i) => a + Math.abs(g.cores - want[i]!), 0);
}

/**
 * Groups that are overloaded now and short of their share: the requests they receive need more
 * cores than they have (at `rateRps` in all), and the workload's mix gives them at least
 * `marginCores` more than they have (an EWMA of a high-variance type is noisy; a core or two is
 * within its noise). δ filters noise in the summed drift; a saturated group is not noise, whatever δ is.
 */
export function overloadedGroups(plan: Plan, types: TypeEstimate[], rateRps: number, marginCores = 2): number[] {
  const dem = typeDemands(types);
  const groupOf = (t: number) => plan.tables.typeToGroup[String(t)] ?? plan.tables.defaultGroup;
  const busy = plan.groups.map(() => 0), want = plan.groups.map(() => 0);
  for (const t of types) {
    busy[groupOf(t.type)]! += rateRps * t.share * t.meanNs * 1e-9;
    want[groupOf(t.type)]! += (dem.get(t.type) ?? 0) * plan.totalCores;
  }
  return plan.groups.flatMap((g, i) => (busy[i]! > g.cores && want[i]! >= g.cores + marginCores ? [i] : []));
}

export interface CandidateReport { k: number; groups: string[][]; cores: number[]; p99Us: number; saturated: boolean; mixedServers: number }
export interface Evaluation { p99Us: number; saturated: boolean }
export type Evaluator = (plan: Plan) => Promise<Evaluation>;

export interface GenerateResult { plan: Plan; chosen: number; candidates: CandidateReport[] }

/**
 * Steps a–c: every k-means candidate is planned (incrementally against `previous` when given) and
 * evaluated; the lowest p99 wins, an unsaturated candidate always beating a saturated one; ties go
 * to fewer groups (less fragmentation).
 */
export async function generate(types: TypeEstimate[], rack: RackServer[], evaluate: Evaluator, opts: PlanOptions = {}, previous?: Plan): Promise<GenerateResult> {
  checkEstimate(types, rack);
  const names = new Map(types.map((t) => [t.type, t.name]));
  const reports: CandidateReport[] = [];
  const plans: Plan[] = [];
  // A fixed number of groups holds while the workload has that many types (fewer: one per type).
  const fixed = opts.groups === undefined ? undefined : Math.min(opts.groups, types.filter((t) => t.share > 0).length);
  for (const grouping of candidates(types)) {
    if (fixed !== undefined && grouping.length !== fixed) continue;
    const plan = buildPlan(types, grouping, rack, opts, previous);
    if (!plan) continue;
    const ev = await evaluate(plan);
    plans.push(plan);
    reports.push({
      k: grouping.length,
      groups: plan.groups.map((g) => g.types.map((t) => names.get(t) ?? String(t))),
      cores: plan.groups.map((g) => g.cores),
      p99Us: ev.p99Us,
      saturated: ev.saturated,
      mixedServers: plan.servers.filter((s) => s.roles.length > 1).length,
    });
  }
  if (plans.length === 0)
    throw new PallasError('BAD_POLICY', fixed !== undefined
      ? `${fixed} groups do not fit the rack's ${rack.reduce((a, s) => a + s.cores, 0)} cores`
      : 'no candidate grouping fits the rack (more groups than cores)');
  let best = 0;
  for (let i = 1; i < reports.length; i++) {
    const a = reports[i]!, b = reports[best]!;
    if ((a.saturated ? 1 : 0) < (b.saturated ? 1 : 0) || (a.saturated === b.saturated && a.p99Us < b.p99Us)) best = i;
  }
  return { plan: plans[best]!, chosen: best, candidates: reports };
}

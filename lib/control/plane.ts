// ControlPlane: the live rack's control plane (paper §4). It keeps the membership of the
// servers (agents register with their address and cores and send heartbeats; a server that stops
// answering is taken out of WRR and its cores re-provisioned), reads the switch's monitor registers
// every monitor interval (10 ms), and re-plans with the policy generator (lib/control/policy.ts,
// the same one the simulator uses) when the workload drifts by more than δ cores. A plan is
// installed in order: the switch tables first (an incremental write), then the intra-server
// policies of the servers whose policy changed, each pushed to its agent with a new epoch — so
// that requests the servers bounce are re-scheduled with the new tables.
//
// Before the monitor has seen enough replies, the plan comes from the declared workload if the
// config gives one, else it is one group of every server (cfcfs everywhere); the first estimate
// then produces a full plan.
import { bool, int, list, num, obj, only, str } from '../config.js';
import { PallasError, toPallasError } from '../errors.js';
import { typeId, typeName } from '../runtime/config.js';
import type { SwitchDriver } from '../switch/driver.js';
import { parseAddr, type ServerAddr } from '../switch/soft.js';
import { singleGroupTables, type TableOp } from '../switch/tables.js';
import { logger, type Logger } from '../util/log.js';
import { buildInfoMetric, metricsText, switchMetrics, type Metric } from '../util/metrics.js';
import { VERSION } from '../version.js';
import { TYPES } from '../wire/gen.js';
import { Adapter, MonitorDiff, type AdaptOptions, type MonitorRead } from './adapt.js';
import { ChannelServer, resolveSecret, sendSigned } from './channel.js';
import { darcWithinOf, planSimConfig } from './evaluate.js';
import { buildPlan, generate, type Evaluator, type Plan, type PlanOptions, type RackServer, type TypeEstimate } from './policy.js';
import { loadNative } from '../native.js';

export const DEFAULT_CONTROL_PORT = 9020;

export interface ControlConfig {
  secret?: string;
  listen?: { host?: string; port?: number };
  /** The workload to plan for until the monitor has measured one: per type, mean µs and share. */
  workload?: { type: string | number; meanUs: number; share: number }[];
  monitorMs?: number;
  /** A server whose heartbeats stop for this long is taken out of the rack. */
  deadAfterMs?: number;
  /** δ: re-plan when the demand drifts from the allocation by more than this many cores. */
  deltaCores?: number;
  /** Replies the monitor must have counted before an estimate is trusted. */
  minSamples?: number;
  /** Burst cloning (the pallas-no-clone ablation turns it off). */
  clone?: boolean;
  cThresFactor?: number;
  /** Plan with exactly this many groups (an operator's fixed grouping); default: the generator picks. */
  groups?: number;
  /**
   * Behind a baseline's switch (po2: RackSched, …) there is no plan: every server runs this policy.
   * Default darc with its own profiling, i.e. RS-DARC; { kind: cfcfs } for RS-cFCFS.
   */
  serverPolicy?: Record<string, unknown>;
  /** How candidates are compared: by simulating each on the native rack simulator, or not at all (the first that provisions). */
  evaluate?: 'sim' | 'first';
  /** Requests per simulated candidate. */
  evalRequests?: number;
}

interface Member {
  index: number;
  addr: ServerAddr;
  agent: string;
  cores: number;
  name: string;
  alive: boolean;
  lastSeen: number;
  stats: Record<string, number>;
  want: { epoch: number; policy: Record<string, unknown> } | null; // the policy this server should run
  acked: number; // the last epoch its agent applied
  pushing: boolean;
  pushFailures: number;
  nextPushAt: number; // backoff after failures (performance.now() ms)
}

export interface RackStatus {
  epoch: number;
  /** counters: the switch's own (read every second; docs/switch-contract.md), null until the first read. */
  switch: { kind: string; policy: string; counters: Record<string, number> | null };
  plan: { groups: { types: string[]; cores: number; meanNs: number; servers: { index: number; weight: number }[] }[] } | null;
  servers: {
    index: number;
    name: string;
    addr: string;
    alive: boolean;
    cores: number;
    epoch: number;
    lastSeenMs: number;
    stats: Record<string, number>;
  }[];
  adaptations: number;
  /** Monitor intervals read so far (the control loop's clock). */
  monitorReads: number;
  estimate: TypeEstimate[] | null;
}

const ALL_TYPES = TYPES.map((t) => ({ type: t.id, name: t.name }));

export class ControlPlane {
  readonly log: Logger;
  #cfg: Required<Omit<ControlConfig, 'secret' | 'listen' | 'workload' | 'groups'>> & {
    secret: string;
    host: string;
    port: number;
    groups?: number;
  };
  #baseline: boolean;
  #declared: TypeEstimate[] | null;
  #members = new Map<number, Member>();
  #channel: ChannelServer;
  #plan: Plan | null = null;
  #estimate: TypeEstimate[] | null = null;
  #adapter: Adapter | null = null;
  #monitor = new MonitorDiff(); // the switch's cumulative registers → per-interval samples
  #bootstrap = true;
  #epoch = 0;
  #adaptations = 0;
  #reads = 0;
  #timer: NodeJS.Timeout | undefined;
  #countersTimer: NodeJS.Timeout | undefined;
  #swCounters: Record<string, number> | null = null;
  #ticking = false;
  #replanWanted: string | null = null;
  #lastTick = 0;
  #url = '';
  #lastOps: TableOp[] = [];

  constructor(
    readonly sw: SwitchDriver,
    cfg: ControlConfig = {},
    log: Logger = logger('control'),
  ) {
    const o = obj(cfg, 'control');
    only(o, 'control', [
      'secret',
      'listen',
      'workload',
      'monitorMs',
      'deadAfterMs',
      'deltaCores',
      'minSamples',
      'clone',
      'cThresFactor',
      'evaluate',
      'evalRequests',
      'groups',
      'serverPolicy',
    ]);
    const l = o.listen === undefined ? {} : obj(o.listen, 'control.listen');
    only(l, 'control.listen', ['host', 'port']);
    this.#cfg = {
      secret: resolveSecret(o.secret as string | undefined),
      host: str(l, 'host', 'control.listen', '127.0.0.1'),
      port: int(l, 'port', 'control.listen', 0, 65535, DEFAULT_CONTROL_PORT),
      monitorMs: int(o, 'monitorMs', 'control', 1, 60_000, 10),
      deadAfterMs: int(o, 'deadAfterMs', 'control', 10, 600_000, 500),
      deltaCores: num(o, 'deltaCores', 'control', 0, 1e6, 1),
      minSamples: int(o, 'minSamples', 'control', 1, 1e9, 200),
      clone: bool(o, 'clone', 'control', true),
      cThresFactor: num(o, 'cThresFactor', 'control', 0.01, 100, 1),
      evaluate: o.evaluate === 'first' ? 'first' : 'sim',
      evalRequests: int(o, 'evalRequests', 'control', 1000, 1e7, 20_000),
      ...(o.groups !== undefined ? { groups: int(o, 'groups', 'control', 1, 32) } : {}),
      serverPolicy: o.serverPolicy === undefined ? { kind: 'darc' } : obj(o.serverPolicy, 'control.serverPolicy'),
    };
    this.#baseline = sw.policy !== 'pallas';
    if (o.evaluate !== undefined && o.evaluate !== 'sim' && o.evaluate !== 'first')
      throw new PallasError('BAD_CONFIG', "control.evaluate: must be 'sim' or 'first'");
    this.#declared =
      o.workload === undefined
        ? null
        : list(o, 'workload', 'control').map((w, i) => {
            const p = `control.workload[${i}]`;
            const wo = obj(w, p);
            only(wo, p, ['type', 'meanUs', 'share']);
            const type = typeId(wo.type, `${p}.type`);
            return { type, name: typeName(type), meanNs: num(wo, 'meanUs', p, 0.001, 1e9) * 1000, share: num(wo, 'share', p, 0, 1e9) };
          });
    this.log = log;
    this.#channel = new ChannelServer({
      secret: this.#cfg.secret,
      log,
      routes: {
        '/v1/register': { parse: parseRegister, handle: (m: RegisterMsg) => this.#register(m) },
        '/v1/heartbeat': { parse: parseHeartbeat, handle: (m: HeartbeatMsg) => this.#heartbeat(m) },
      } as never,
      pages: {
        '/metrics': () => ({ type: 'text/plain; version=0.0.4', body: this.metrics() }),
        '/v1/status': () => ({ type: 'application/json', body: JSON.stringify(this.status()) }),
        '/v1/health': () => ({ type: 'application/json', body: JSON.stringify(this.health()) }),
      },
    });
  }

  async start(): Promise<this> {
    // The registers count from the switch's start, not ours: the first read is the baseline.
    if (this.sw.policy === 'pallas') this.#monitor = new MonitorDiff(await this.sw.readMonitor());
    const at = await this.#channel.listen(this.#cfg.host, this.#cfg.port);
    this.#url = `http://${at.host}:${at.port}`;
    this.#lastTick = performance.now();
    this.#timer = setInterval(() => {
      void this.tick();
    }, this.#cfg.monitorMs);
    // The switch's counters, for /metrics, /v1/status and `pallas status`: read once a second (a
    // Tofino's are a gRPC read), not on every page request.
    const readCounters = () =>
      this.sw.counters().then(
        (c) => {
          this.#swCounters = c;
        },
        () => {}, // unreachable for now (a Tofino reconnecting): the last read stays
      );
    await readCounters();
    this.#countersTimer = setInterval(() => void readCounters(), 1000);
    this.log.info('control plane up', { url: this.#url, switch: this.sw.kind, policy: this.sw.policy, monitorMs: this.#cfg.monitorMs });
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#countersTimer);
    // A last read, so that what the caller prints at stop is the final count.
    this.#swCounters = await this.sw.counters().catch(() => this.#swCounters);
    await this.#channel.close();
  }

  /** GET /v1/health: up, with the plan's epoch and the live servers (for load balancers and ansible). */
  health(): { ok: true; epoch: number; serversAlive: number; switch: string; version: string } {
    return {
      ok: true,
      epoch: this.#epoch,
      serversAlive: this.alive().length,
      switch: `${this.sw.kind} (${this.sw.policy})`,
      version: VERSION,
    };
  }

  get url(): string {
    return this.#url;
  }
  get epoch(): number {
    return this.#epoch;
  }
  get plan(): Plan | null {
    return this.#plan;
  }
  get channelCounters() {
    return this.#channel.counters;
  }
  /** The entry operations of the last table write. */
  get lastTableOps(): TableOp[] {
    return this.#lastOps;
  }

  alive(): number[] {
    return [...this.#members.values()]
      .filter((m) => m.alive)
      .map((m) => m.index)
      .sort((a, b) => a - b);
  }

  #register(m: RegisterMsg): { index: number } {
    const key = `${m.addr.ip}:${m.addr.port}`;
    let mem = [...this.#members.values()].find((x) => `${x.addr.ip}:${x.addr.port}` === key);
    if (!mem) {
      let index = 0;
      while (this.#members.has(index)) index++;
      if (index >= this.sw.capacity) {
        // Every slot has been used: a server that is gone gives its slot to the newcomer.
        const gone = [...this.#members.values()].filter((x) => !x.alive).sort((a, b) => a.index - b.index)[0];
        if (!gone) throw new PallasError('BAD_CONFIG', `the rack is full: the switch has ${this.sw.capacity} server slots`);
        index = gone.index;
      }
      mem = {
        index,
        addr: m.addr,
        agent: m.agent,
        cores: m.cores,
        name: m.name,
        alive: false,
        lastSeen: 0,
        stats: {},
        want: null,
        acked: 0,
        pushing: false,
        pushFailures: 0,
        nextPushAt: 0,
      };
      this.#members.set(index, mem);
    }
    Object.assign(mem, {
      agent: m.agent,
      cores: m.cores,
      name: m.name,
      alive: true,
      lastSeen: performance.now(),
      acked: 0,
      want: null,
      pushFailures: 0,
      nextPushAt: 0,
    });
    this.log.info('server joined', { index: mem.index, addr: key, cores: m.cores, name: m.name });
    this.#replanWanted = 'join';
    return { index: mem.index };
  }

  #heartbeat(m: HeartbeatMsg): { known: boolean } {
    const mem = this.#members.get(m.index);
    if (!mem || !mem.alive || mem.addr.ip !== m.addr.ip || mem.addr.port !== m.addr.port) return { known: false };
    mem.lastSeen = performance.now();
    mem.stats = m.stats;
    return { known: true };
  }

  /**
   * One monitor interval: membership, the monitor read, adaptation, and pending pushes. The timer
   * calls it every `monitorMs`; a call while one runs returns at once.
   */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const now = performance.now();
      const intervalNs = (now - this.#lastTick) * 1e6;
      this.#lastTick = now;
      for (const m of this.#members.values()) {
        if (m.alive && now - m.lastSeen > this.#cfg.deadAfterMs) {
          m.alive = false;
          this.log.warn('server lost: no heartbeat', { index: m.index, silentMs: Math.round(now - m.lastSeen) });
          this.#replanWanted = 'leave';
        }
      }
      if (this.#replanWanted) {
        const why = this.#replanWanted;
        this.#replanWanted = null;
        try {
          await this.#replan(why);
        } catch (e) {
          this.#replanWanted = why; // try again next interval
          throw e;
        }
      }
      const sample = this.#monitor.next(await this.sw.readMonitor());
      this.#reads++;
      if (this.#adapter && this.#plan) {
        const a = await this.#adapter.onMonitor(sample, intervalNs, now * 1e6);
        if (a) {
          this.#estimate = a.estimate; // what the servers' policies are given means from
          try {
            await this.#install(a.plan);
          } catch (e) {
            // The switch refused the tables (or is unreachable): the plan in force stays, and the
            // next estimate tries again from it.
            this.#adapter = this.#newAdapter(this.#plan);
            throw e;
          }
          this.#adaptations++;
          this.log.info('workload changed: new plan', {
            drift: Number(a.drift.toFixed(2)),
            groups: a.plan.groups.map((g) => g.types.map(typeName)),
            moved: a.moved,
            bootstrap: this.#bootstrap,
          });
          this.#bootstrap = false;
          this.#adapter = this.#newAdapter(a.plan);
        }
      }
      this.#push();
    } catch (e) {
      const err = toPallasError(e);
      this.log.error('monitor interval failed', { code: err.code, error: err.message });
    } finally {
      this.#ticking = false;
    }
  }

  #rack(): RackServer[] {
    return this.alive().map((i) => ({ id: i, cores: this.#members.get(i)!.cores }));
  }

  #planOpts(): PlanOptions {
    // Servers of a multi-type group may run DARC or shortest-first over its types: the same
    // candidates as the simulator's (lib/sim/pallas.ts), with the native reservation rule.
    return {
      clone: this.#cfg.clone,
      cThresFactor: this.#cfg.cThresFactor,
      darcWithin: darcWithinOf(),
      ...(this.#cfg.groups ? { groups: this.#cfg.groups } : {}),
    };
  }

  #newAdapter(plan: Plan): Adapter {
    const opts: AdaptOptions = {
      deltaCores: this.#bootstrap ? -1 : this.#cfg.deltaCores,
      minSamples: this.#cfg.minSamples,
      plan: this.#planOpts(),
    };
    return new Adapter(ALL_TYPES, this.#rack(), plan, opts, (est, load) => this.#evaluator(est, load));
  }

  /** Membership changed: plan for the servers alive now, from the best estimate there is. */
  async #replan(why: string): Promise<void> {
    const rack = this.#rack();
    for (const m of this.#members.values()) if (!m.alive) await this.sw.setServer(m.index, null);
    for (const m of this.#members.values()) if (m.alive) await this.sw.setServer(m.index, m.addr);
    if (this.#baseline) {
      // A baseline's switch balances by itself: no plan, the same policy on every server.
      this.#epoch++;
      for (const m of this.#members.values()) {
        if (m.alive && (!m.want || JSON.stringify(m.want.policy) !== JSON.stringify(this.#cfg.serverPolicy))) {
          m.want = { epoch: this.#epoch, policy: this.#cfg.serverPolicy };
        }
      }
      this.log.info('servers changed', {
        why,
        servers: rack.map((s) => s.id),
        switch: this.sw.policy,
        serverPolicy: this.#cfg.serverPolicy,
      });
      this.#push();
      return;
    }
    if (rack.length === 0) {
      this.#plan = null;
      this.#adapter = null;
      this.log.warn('no servers alive: every request is dropped at the switch', { why });
      if (this.sw.policy === 'pallas')
        await this.sw.writeTables({ ...singleGroupTables(0), groups: [{ cThres: 0, cloneTarget: null, balance: 'wrr', wrr: [] }] });
      return;
    }
    const est = this.#estimate ?? this.#declared;
    let plan: Plan | null;
    if (est) {
      const load = 0.5; // candidates are compared at half load: a membership change says nothing of the rate
      plan = (await generate(est, rack, this.#evaluator(est, load), { ...this.#planOpts(), load }, this.#plan ?? undefined)).plan;
    } else {
      // Nothing known yet: one group of every type on every server.
      const uniform = ALL_TYPES.map((t) => ({ ...t, meanNs: 10_000, share: 1 }));
      plan = buildPlan(uniform, [uniform.map((t) => t.type)], rack, { ...this.#planOpts(), clone: false });
    }
    if (!plan) throw new PallasError('BAD_POLICY', 'the generator found no plan for the servers alive');
    this.#adapter = this.#newAdapter(plan);
    this.log.info('re-planned', { why, servers: rack.map((s) => s.id), groups: plan.groups.map((g) => g.types.map(typeName)) });
    await this.#install(plan);
  }

  /** Tables first, then the servers whose policy changed (pushed by #push). */
  async #install(plan: Plan): Promise<void> {
    if (this.sw.policy === 'pallas') this.#lastOps = await this.sw.writeTables(plan.tables);
    this.#plan = plan;
    this.#epoch++;
    const meanNs = new Map((this.#estimate ?? this.#declared ?? []).map((t) => [t.type, t.meanNs]));
    for (const sp of plan.servers) {
      const m = this.#members.get(sp.server);
      if (!m || !m.alive) continue;
      const policy: Record<string, unknown> = { ...sp.policy };
      // Bouncing needs the served types and their means; without measured means there is nothing to order by.
      if (sp.types.every((t) => meanNs.has(t))) {
        policy.served = sp.types;
        policy.meanNs = Object.fromEntries(sp.types.map((t) => [String(t), meanNs.get(t)!]));
      }
      if (m.want && JSON.stringify(m.want.policy) === JSON.stringify(policy) && m.acked >= m.want.epoch) continue;
      m.want = { epoch: this.#epoch, policy };
    }
    this.#push();
  }

  /** Sends every server whose agent has not applied its wanted policy that policy (one at a time per server). */
  #push(): void {
    const now = performance.now();
    for (const m of this.#members.values()) {
      if (!m.alive || !m.want || m.acked >= m.want.epoch || m.pushing || now < m.nextPushAt) continue;
      const want = m.want;
      m.pushing = true;
      sendSigned(m.agent, '/v1/policy', want, this.#cfg.secret)
        .then(() => {
          m.acked = Math.max(m.acked, want.epoch);
          m.pushFailures = 0;
          this.log.info('policy pushed', { index: m.index, epoch: want.epoch, kind: want.policy.kind });
        })
        .catch((e: unknown) => {
          const err = toPallasError(e);
          m.pushFailures++;
          m.nextPushAt = performance.now() + Math.min(2000, 10 * 2 ** m.pushFailures); // back off: 20 ms, 40 ms, … 2 s
          // An agent that refuses (a newer epoch in force after our restart) is told a newer one next time.
          if (err.code === 'BAD_POLICY' && /not newer/.test(err.message)) {
            this.#epoch = Math.max(this.#epoch, Number(/in force \((\d+)\)/.exec(err.message)?.[1] ?? 0)) + 1;
            m.want = { epoch: this.#epoch, policy: want.policy };
          }
          this.log.warn('policy push failed', { index: m.index, epoch: want.epoch, code: err.code, error: err.message });
        })
        .finally(() => {
          m.pushing = false;
          if (m.want && m.acked < m.want.epoch && m.pushFailures === 0) this.#push(); // a newer plan came meanwhile
        });
    }
  }

  #evaluator(est: TypeEstimate[], load: number): Evaluator {
    if (this.#cfg.evaluate === 'first') return async () => ({ p99Us: 0, saturated: false });
    const rack = this.#rack();
    const dense = new Map(rack.map((s, i) => [s.id, i]));
    // The simulator's servers are numbered 0…n−1 with equal cores: the plan is renumbered, and
    // servers are simulated with the smallest core count of the rack (the embedded rack's are equal).
    const workers = Math.min(...rack.map((s) => s.cores));
    const setup = { types: est, servers: rack.length, workers, load, oneWayUs: 5, requests: this.#cfg.evalRequests, seed: 1 };
    return async (plan: Plan) => {
      const p: Plan = {
        ...plan,
        servers: plan.servers.map((s) => ({ ...s, server: dense.get(s.server)! })),
        tables: {
          ...plan.tables,
          groups: plan.tables.groups.map((g) => ({ ...g, wrr: g.wrr.map((e) => ({ ...e, server: dense.get(e.server)! })) })),
        },
      };
      const r = await loadNative().runSim(planSimConfig(p, setup));
      return { p99Us: r.latencyUs.p99, saturated: r.achievedRps < 0.99 * r.offeredRps };
    };
  }

  status(): RackStatus {
    const now = performance.now();
    const plan = this.#plan;
    return {
      epoch: this.#epoch,
      switch: { kind: this.sw.kind, policy: this.sw.policy, counters: this.#swCounters },
      plan: plan && {
        groups: plan.groups.map((g, gi) => ({
          types: g.types.map(typeName),
          cores: g.cores,
          meanNs: g.meanNs,
          servers: plan.tables.groups[gi]!.wrr.map((e) => ({ index: e.server, weight: e.weight })),
        })),
      },
      servers: [...this.#members.values()]
        .sort((a, b) => a.index - b.index)
        .map((m) => ({
          index: m.index,
          name: m.name,
          addr: `${m.addr.ip}:${m.addr.port}`,
          alive: m.alive,
          cores: m.cores,
          epoch: m.acked,
          lastSeenMs: Math.round(now - m.lastSeen),
          stats: m.stats,
        })),
      adaptations: this.#adaptations,
      monitorReads: this.#reads,
      estimate: this.#estimate,
    };
  }

  metrics(): string {
    const st = this.status();
    const ms: Metric[] = [
      { name: 'pallas_policy_epoch', help: 'Policy epoch of the plan in force', type: 'gauge', samples: [{ labels: {}, value: st.epoch }] },
      {
        name: 'pallas_adaptations_total',
        help: 'Plans made because the workload changed',
        type: 'counter',
        samples: [{ labels: {}, value: st.adaptations }],
      },
      {
        name: 'pallas_servers_alive',
        help: 'Servers in the rack',
        type: 'gauge',
        samples: [{ labels: {}, value: st.servers.filter((s) => s.alive).length }],
      },
      {
        name: 'pallas_group_cores',
        help: 'Cores provisioned per group',
        type: 'gauge',
        samples: (st.plan?.groups ?? []).map((g, i) => ({ labels: { group: String(i) }, value: g.cores })),
      },
      {
        name: 'pallas_group_type',
        help: 'Which group serves each request type (1 per pair)',
        type: 'gauge',
        samples: (st.plan?.groups ?? []).flatMap((g, i) => g.types.map((t) => ({ labels: { group: String(i), type: t }, value: 1 }))),
      },
      // The rack as the control plane sees it, from heartbeats: pallas_rack_*, so that a sum over
      // these and the agents' own pallas_server_* never counts a request twice.
      {
        name: 'pallas_rack_server_alive',
        help: '1 while the server answers heartbeats',
        type: 'gauge',
        samples: st.servers.map((s) => ({ labels: { server: String(s.index) }, value: s.alive ? 1 : 0 })),
      },
      ...(['received', 'completed', 'dropped', 'cloneDrops', 'bounced', 'refused', 'queued', 'inService'] as const).map((k): Metric => {
        const gauge = k === 'queued' || k === 'inService';
        return {
          name: `pallas_rack_server_${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}${gauge ? '' : '_total'}`,
          help: `Per server: ${k} (from its heartbeats)`,
          type: gauge ? 'gauge' : 'counter',
          samples: st.servers.map((s) => ({ labels: { server: String(s.index) }, value: s.stats[k] ?? 0 })),
        };
      }),
      {
        name: 'pallas_control_rejected_total',
        help: 'Control messages rejected',
        type: 'counter',
        samples: (['unauthenticated', 'replayed', 'malformed', 'tooLarge'] as const).map((r) => ({
          labels: { reason: r === 'tooLarge' ? 'too_large' : r },
          value: this.#channel.counters[r],
        })),
      },
      ...switchMetrics(st.switch.counters),
      buildInfoMetric('control', VERSION, loadNative().buildInfo()),
    ];
    return metricsText(ms);
  }
}

interface RegisterMsg {
  agent: string;
  addr: ServerAddr;
  cores: number;
  name: string;
}
interface HeartbeatMsg {
  index: number;
  addr: ServerAddr;
  epoch: number;
  stats: Record<string, number>;
}

function parseAddrField(v: unknown, path: string): ServerAddr {
  const a = parseAddr(v, path);
  if (!a) throw new PallasError('BAD_CONFIG', `${path}: must be an address`);
  return a;
}

function parseRegister(v: unknown): RegisterMsg {
  const o = obj(v, 'register');
  only(o, 'register', ['agent', 'addr', 'cores', 'name']);
  const agent = str(o, 'agent', 'register');
  if (!/^http:\/\/[^/]+$/.test(agent)) throw new PallasError('BAD_CONFIG', 'register.agent: must be http://host:port');
  return {
    agent,
    addr: parseAddrField(o.addr, 'register.addr'),
    cores: int(o, 'cores', 'register', 1, 4096),
    name: str(o, 'name', 'register', ''),
  };
}

function parseHeartbeat(v: unknown): HeartbeatMsg {
  const o = obj(v, 'heartbeat');
  only(o, 'heartbeat', ['index', 'addr', 'epoch', 'stats']);
  const s = obj(o.stats, 'heartbeat.stats');
  const stats: Record<string, number> = {};
  for (const k of Object.keys(s)) stats[k] = num(s, k, 'heartbeat.stats', 0, Number.MAX_SAFE_INTEGER);
  return {
    index: int(o, 'index', 'heartbeat', 0, 255),
    addr: parseAddrField(o.addr, 'heartbeat.addr'),
    epoch: int(o, 'epoch', 'heartbeat', 0, Number.MAX_SAFE_INTEGER),
    stats,
  };
}

export type { MonitorRead };

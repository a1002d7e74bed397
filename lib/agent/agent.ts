// Agent: runs next to a server runtime (lib/runtime Server), in the same process. It registers the
// server with the control plane (its address for the switch and its cores), sends heartbeats with
// a summary of the server's statistics, and applies the intra-server policies the control plane
// pushes: each is validated first, and an invalid or stale one is refused with the reason while
// the policy in force stays. It serves /metrics (Prometheus text) and /v1/health.
import { bad, int, obj, only, str } from '../config.js';
import { sendSigned, ChannelServer, resolveSecret } from '../control/channel.js';
import { PallasError, toPallasError } from '../errors.js';
import type { PolicyUpdate, ServerConfig } from '../runtime/config.js';
import { Server } from '../runtime/server.js';
import { HIST_BOUNDS_NS, type RuntimeStats } from '../runtime/stats.js';
import { loadNative } from '../native.js';
import { logger, type Logger } from '../util/log.js';
import { buildInfoMetric, metricsText, type Metric } from '../util/metrics.js';
import { VERSION } from '../version.js';

/** The histograms' bucket bounds in seconds (1, 2, 5 × 10^k from 1 µs to 10 s). */
const HIST_BOUNDS_S = HIST_BOUNDS_NS.map((b) => b / 1e9);

export interface AgentConfig {
  server: ServerConfig;
  /** The control plane's address, e.g. http://127.0.0.1:9020. */
  control: string;
  secret?: string;
  /** Where the agent listens for policy pushes and /metrics (default 127.0.0.1, any port). */
  listen?: { host?: string; port?: number };
  /** The address the switch sends this server's requests to (default: the runtime's own). */
  advertise?: string;
  heartbeatMs?: number;
  name?: string;
}

export interface PolicyMessage {
  epoch: number;
  policy: Record<string, unknown>;
}

export function parsePolicyMessage(v: unknown): PolicyMessage {
  const o = obj(v, 'policyMessage');
  only(o, 'policyMessage', ['epoch', 'policy']);
  return { epoch: int(o, 'epoch', 'policyMessage', 1, Number.MAX_SAFE_INTEGER), policy: obj(o.policy, 'policyMessage.policy') };
}

export class Agent {
  readonly server: Server;
  readonly log: Logger;
  #cfg: { control: string; secret: string; host: string; port: number; advertise?: string; heartbeatMs: number; name: string };
  #channel: ChannelServer;
  #url = '';
  #index: number | null = null;
  #epoch = 0;
  #policy: Record<string, unknown> | null = null;
  #timer: NodeJS.Timeout | undefined;
  #beating = false;
  #refused = 0;
  #stopped = false;

  constructor(cfg: AgentConfig, log?: Logger) {
    const o = obj(cfg, 'agent');
    only(o, 'agent', ['server', 'control', 'secret', 'listen', 'advertise', 'heartbeatMs', 'name']);
    const control = str(o, 'control', 'agent');
    if (!/^https?:\/\/[^/]+\/?$/.test(control)) bad('agent.control', `'${control}' is not a URL like http://host:port`);
    const l = o.listen === undefined ? {} : obj(o.listen, 'agent.listen');
    only(l, 'agent.listen', ['host', 'port']);
    this.#cfg = {
      control,
      secret: resolveSecret(o.secret as string | undefined),
      host: str(l, 'host', 'agent.listen', '127.0.0.1'),
      port: int(l, 'port', 'agent.listen', 0, 65535, 0),
      heartbeatMs: int(o, 'heartbeatMs', 'agent', 10, 60_000, 100),
      name: str(o, 'name', 'agent', ''),
      ...(o.advertise !== undefined ? { advertise: str(o, 'advertise', 'agent') } : {}),
    };
    this.server = new Server(cfg.server);
    // Every line says which agent wrote it (its name, else its pid and host only).
    this.log = log ?? logger('agent', undefined, this.#cfg.name || undefined);
    this.#channel = new ChannelServer({
      secret: this.#cfg.secret,
      log: this.log,
      routes: { '/v1/policy': { parse: parsePolicyMessage, handle: (m: PolicyMessage) => this.#apply(m) } } as never,
      pages: {
        '/metrics': () => ({ type: 'text/plain; version=0.0.4', body: this.metrics() }),
        '/v1/health': () => ({ type: 'application/json', body: JSON.stringify(this.health()) }),
      },
    });
  }

  /** Starts the runtime and the listener, then registers (retrying until the control plane answers). */
  async start(): Promise<this> {
    await this.server.start();
    const at = await this.#channel.listen(this.#cfg.host, this.#cfg.port);
    this.#url = `http://${at.host}:${at.port}`;
    this.log.info('agent up', { url: this.#url, server: this.addr(), workers: this.server.config.workers });
    this.#timer = setInterval(() => {
      void this.#beat();
    }, this.#cfg.heartbeatMs);
    void this.#beat();
    return this;
  }

  /** Stops heartbeats, the listener and the runtime. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#channel.close();
    this.server.stop();
    this.log.info('agent stopped', { index: this.#index });
  }

  get url(): string {
    return this.#url;
  }
  get index(): number | null {
    return this.#index;
  }
  get epoch(): number {
    return this.#epoch;
  }

  /** The runtime's address as the switch must use it (with its MAC when it runs on DPDK). */
  addr(): { ip: string; port: number; mac?: string } {
    const l = this.server.local();
    return { ip: this.#cfg.advertise ?? l.ip, port: l.port, ...(this.server.config.transport.kind === 'dpdk' ? { mac: l.mac } : {}) };
  }

  /**
   * CPU time this server has used, s: its dispatcher, its workers (summed), and the whole process
   * (the agent's own thread besides those), for the benchmarks' CPU budget.
   */
  cpu(): { cpuDispatcherS: number; cpuWorkersS: number; cpuProcessS: number } {
    const t = this.server.threadCpu();
    const p = process.cpuUsage();
    return { cpuDispatcherS: t.dispatcherS, cpuWorkersS: t.workersS.reduce((a, b) => a + b, 0), cpuProcessS: (p.user + p.system) / 1e6 };
  }

  health(): object {
    return {
      index: this.#index,
      epoch: this.#epoch,
      policy: this.#policy,
      running: this.server.running,
      refused: this.#refused,
      channel: this.#channel.counters,
    };
  }

  async #beat(): Promise<void> {
    if (this.#beating || this.#stopped) return;
    this.#beating = true;
    try {
      if (this.#index === null) {
        const r = (await sendSigned(
          this.#cfg.control,
          '/v1/register',
          {
            agent: this.#url,
            addr: this.addr(),
            cores: this.server.config.workers,
            name: this.#cfg.name || `${this.addr().ip}:${this.addr().port}`,
          },
          this.#cfg.secret,
        )) as { index: number };
        this.#index = r.index;
        this.log.info('registered', { index: r.index });
        return;
      }
      const st = this.server.stats();
      const r = (await sendSigned(
        this.#cfg.control,
        '/v1/heartbeat',
        { index: this.#index, addr: this.addr(), epoch: this.#epoch, stats: { ...summary(st), ...this.cpu() } },
        this.#cfg.secret,
      )) as { known: boolean };
      if (!r.known) {
        this.log.warn('the control plane does not know us any more; registering again', { index: this.#index });
        this.#index = null;
      }
    } catch (e) {
      const err = toPallasError(e);
      this.log[err.code === 'AUTH' ? 'error' : 'debug']('control plane not reached', { code: err.code, error: err.message });
    } finally {
      this.#beating = false;
    }
  }

  #apply(m: PolicyMessage): { epoch: number } {
    try {
      if (m.epoch <= this.#epoch)
        throw new PallasError('BAD_POLICY', `epoch ${m.epoch} is not newer than the policy in force (${this.#epoch})`);
      this.server.applyPolicy({ ...m.policy, epoch: m.epoch } as unknown as PolicyUpdate); // validated there
    } catch (e) {
      this.#refused++;
      throw e;
    }
    this.#epoch = m.epoch;
    this.#policy = m.policy;
    this.log.info('policy applied', { epoch: m.epoch, kind: m.policy.kind });
    return { epoch: m.epoch };
  }

  metrics(): string {
    const st = this.server.running ? this.server.stats() : null;
    const labels = { server: String(this.#index ?? -1) };
    const ms: Metric[] = [
      { name: 'pallas_agent_policy_epoch', help: 'Policy epoch in force', type: 'gauge', samples: [{ labels, value: this.#epoch }] },
      {
        name: 'pallas_agent_policies_refused_total',
        help: 'Policy pushes refused (invalid or stale)',
        type: 'counter',
        samples: [{ labels, value: this.#refused }],
      },
      {
        name: 'pallas_agent_channel_rejected_total',
        help: 'Control messages rejected',
        type: 'counter',
        samples: (['unauthenticated', 'replayed', 'malformed', 'tooLarge'] as const).map((r) => ({
          labels: { ...labels, reason: r === 'tooLarge' ? 'too_large' : r },
          value: this.#channel.counters[r],
        })),
      },
    ];
    if (st) {
      const per = (name: string, help: string, type: 'counter' | 'gauge', f: (t: RuntimeStats['types'][string]) => number): Metric => ({
        name,
        help,
        type,
        samples: Object.entries(st.types).map(([t, v]) => ({ labels: { ...labels, type: t }, value: f(v) })),
      });
      ms.push(
        per('pallas_server_received_total', 'Requests received', 'counter', (t) => t.received),
        per('pallas_server_completed_total', 'Requests completed', 'counter', (t) => t.completed),
        per(
          'pallas_server_dropped_total',
          'Requests dropped (queue full, clone busy, other)',
          'counter',
          (t) => t.dropFull + t.dropClone + t.dropOther,
        ),
        per('pallas_server_clone_drops_total', 'Clones dropped because no worker was idle', 'counter', (t) => t.dropClone),
        per('pallas_server_bounced_total', 'Requests bounced back to the switch', 'counter', (t) => t.bounced),
        per('pallas_server_queued', 'Requests queued now', 'gauge', (t) => t.queued),
        {
          name: 'pallas_server_in_service',
          help: 'Requests running now',
          type: 'gauge',
          samples: [{ labels, value: st.server.in_service ?? 0 }],
        },
        ...(['sojourn', 'exec'] as const).map((k): Metric => ({
          name: `pallas_server_${k}_seconds`,
          help: k === 'sojourn' ? 'Arrival to completion at the server, per type' : 'Execution time measured by the worker, per type',
          type: 'histogram',
          samples: [],
          histograms: Object.entries(st.types).map(([t, v]) => {
            const q = k === 'sojourn' ? v.sojournNs : v.execNs;
            return { labels: { ...labels, type: t }, le: HIST_BOUNDS_S, cumulative: q.cumulative, sum: q.sumNs / 1e9, count: q.count };
          }),
        })),
      );
    }
    ms.push(buildInfoMetric('agent', VERSION, loadNative().buildInfo()));
    return metricsText(ms);
  }
}

/** What a heartbeat carries: the server's load, for the control plane's status and metrics. */
export function summary(st: RuntimeStats): Record<string, number> {
  let received = 0,
    completed = 0,
    dropped = 0,
    clones = 0,
    bounced = 0;
  for (const t of Object.values(st.types)) {
    received += t.received;
    completed += t.completed;
    dropped += t.dropFull + t.dropClone + t.dropOther;
    clones += t.dropClone;
    bounced += t.bounced;
  }
  // refused: requests of a type this server has no handler for (e.g. GET/SCAN without a RocksDB store).
  return {
    received,
    completed,
    dropped,
    cloneDrops: clones,
    bounced,
    refused: st.server.n_no_handler ?? 0,
    queued: st.server.queued ?? 0,
    inService: st.server.in_service ?? 0,
  };
}

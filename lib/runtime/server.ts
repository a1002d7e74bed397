// Server: one Pallas server runtime behind a typed API. TypeScript validates the config, builds
// the RocksDB database when asked, and starts the native dispatcher and workers; after that it
// only applies policies and reads statistics from shared memory (nothing per request crosses
// N-API). Every method is safe to call in any state: start and stop are idempotent, a bad config
// or policy is a BAD_CONFIG/BAD_POLICY error that changes nothing.
import { native, PallasError } from '../errors.js';
import { prepareTransport } from '../io/transport.js';
import { loadNative, type NativeEndpoint, type NativeRuntime } from '../native.js';
import { normaliseServer, normaliseUpdate, type NormalisedServer, type PolicyUpdate, type ServerConfig } from './config.js';
import { loadKv, type KvLoadResult } from './kv.js';
import { readStats, type RuntimeStats } from './stats.js';

export class Server {
  readonly config: NormalisedServer;
  #rt: NativeRuntime | undefined;
  #state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  #epoch = 0;
  #kv: KvLoadResult | undefined;

  /** Validates `cfg` (BAD_CONFIG naming the field); starts nothing. */
  constructor(cfg: ServerConfig = {}) {
    this.config = normaliseServer(cfg);
  }

  /** Builds the database if configured, then starts the dispatcher and workers. Idempotent. */
  async start(): Promise<this> {
    if (this.#state === 'running' || this.#state === 'starting') return this;
    if (this.#state === 'stopped') throw new PallasError('STOPPED', 'this server has been stopped; create a new Server');
    this.#state = 'starting';
    try {
      const c = this.config;
      if (c.kv?.load) this.#kv = await loadKv(c.kv);
      if (this.#state !== 'starting') throw new PallasError('STOPPED', 'the server was stopped while starting');
      const transport = prepareTransport(c.transport, 'server.transport');
      this.#rt = native(
        () =>
          new (loadNative().Runtime)({
            transport,
            serverId: c.serverId,
            workers: c.workers,
            busyPoll: c.busyPoll,
            idlePolls: c.idlePolls,
            slots: c.slots,
            dropNotices: c.dropNotices,
            handlers: c.handlers,
            policy: c.policy,
            ...(c.kv ? { kvPath: c.kv.path } : {}),
            ...(c.workerCores ? { workerCores: c.workerCores } : {}),
            ...(c.dispatcherCore !== undefined ? { dispatcherCore: c.dispatcherCore } : {}),
          }),
      );
      native(() => this.#rt!.start());
      this.#state = 'running';
      return this;
    } catch (e) {
      if (this.#state === 'starting') this.#state = 'new';
      this.#rt?.stop();
      this.#rt = undefined;
      throw e;
    }
  }

  /**
   * Applies an intra-server policy (from the agent, at a policy epoch). Validated first: an
   * invalid one throws BAD_CONFIG and the policy in force stays. Returns once the dispatcher runs it.
   */
  applyPolicy(update: PolicyUpdate): number {
    const u = normaliseUpdate(update, this.config.workers, this.#epoch + 1);
    const rt = this.#live();
    native(() => rt.apply(u));
    this.#epoch = Math.max(this.#epoch, u.epoch);
    return u.epoch;
  }

  stats(): RuntimeStats {
    const rt = this.#live();
    return readStats(rt.views(), rt.rowTypes(), rt.policyName(), rt.transportCounters());
  }

  /** CPU time the dispatcher's and the workers' threads have used, s (for CPU budgets). */
  threadCpu(): { dispatcherS: number; workersS: number[] } {
    const c = this.#live().threadCpu();
    return { dispatcherS: c.dispatcherNs / 1e9, workersS: c.workersNs.map((n) => n / 1e9) };
  }

  /** Our address as peers see it. */
  local(): NativeEndpoint {
    return native(() => this.#live().local());
  }

  get running(): boolean {
    return this.#state === 'running';
  }

  /** What the loader found or built at start (undefined without kv). */
  get kv(): KvLoadResult | undefined {
    return this.#kv;
  }

  /**
   * Stops workers and dispatcher (queued and running requests are answered with SHUTDOWN drop
   * notices) and joins their threads. Idempotent; statistics stay readable afterwards.
   */
  stop(): void {
    if (this.#state === 'running') native(() => this.#rt!.stop());
    this.#state = 'stopped';
  }

  #live(): NativeRuntime {
    if (!this.#rt) throw new PallasError('CLOSED', 'the server is not started');
    return this.#rt;
  }
}

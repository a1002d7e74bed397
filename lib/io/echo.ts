// EchoServer: the addon's echo mode behind a typed API. A native I/O thread answers every valid
// request with a reply on the same transport; counters are read from shared memory.
import { int, obj, only } from '../config.js';
import { native } from '../errors.js';
import { loadNative, type NativeEcho, type NativeEndpoint } from '../native.js';
import { prepareTransport, type TransportConfig } from './transport.js';

export interface EchoConfig {
  transport: TransportConfig;
  serverId?: number;
}

export type Counters = Record<string, number>;

export class EchoServer {
  readonly #echo: NativeEcho;
  #running = false;

  constructor(cfg: EchoConfig) {
    const o = obj(cfg, 'echo');
    only(o, 'echo', ['transport', 'serverId']);
    const serverId = int(o, 'serverId', 'echo', 0, 255, 0);
    const transport = prepareTransport(o.transport, 'echo.transport');
    this.#echo = native(() => new (loadNative().Echo)({ transport, serverId }));
  }

  start(): this {
    if (!this.#running) native(() => this.#echo.start());
    this.#running = true;
    return this;
  }

  /** Joins the native thread. Idempotent. */
  stop(): void {
    if (this.#running) native(() => this.#echo.stop());
    this.#running = false;
  }

  get running(): boolean {
    return this.#running;
  }

  local(): NativeEndpoint {
    return native(() => this.#echo.local());
  }

  /** Echo and transport counters by name (n_replied, n_drop_<reason>, n_rx, n_rx_drop_<why> ...). */
  counters(): Counters {
    const addon = loadNative();
    const out: Counters = {};
    const put = (names: string[], view: BigUint64Array) =>
      names.forEach((n, i) => {
        out[n] = Number(view[i]);
      });
    put(addon.echoCounterNames, this.#echo.echoCounters());
    put(addon.transportCounterNames, this.#echo.transportCounters());
    delete out.n_drop_ok;
    return out;
  }
}

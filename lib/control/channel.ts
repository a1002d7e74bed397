// The control channel between the control plane and the agents: HTTP/1.1 with JSON bodies, every
// message signed with HMAC-SHA256 under a shared secret (config or PALLAS_SECRET). The signature
// covers the method, the path, a timestamp, a nonce and the body, so a message cannot be forged,
// altered, replayed (nonces are remembered for the acceptance window) or sent to another endpoint.
// Unsigned, stale, replayed and malformed messages are refused with 401/400, counted and logged.
// Read-only pages (/metrics, status) are served without a signature, as Prometheus expects.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { PallasError, toPallasError } from '../errors.js';
import type { Logger } from '../util/log.js';

export const MIN_SECRET_LENGTH = 16;
const WINDOW_MS = 30_000;
const MAX_BODY = 256 * 1024;

/** The shared secret from `v` or PALLAS_SECRET; AUTH when there is none or it is too short. */
export function resolveSecret(v?: string): string {
  const s = v ?? process.env.PALLAS_SECRET;
  if (!s) throw new PallasError('AUTH', 'the control channel needs a shared secret: set `secret` in the config or PALLAS_SECRET');
  if (s.length < MIN_SECRET_LENGTH) throw new PallasError('AUTH', `the shared secret must be at least ${MIN_SECRET_LENGTH} characters`);
  return s;
}

function mac(secret: string, method: string, path: string, ts: string, nonce: string, body: string): Buffer {
  return createHmac('sha256', secret).update(`${method}\n${path}\n${ts}\n${nonce}\n${body}`).digest();
}

export interface Route<T> {
  /** Validates the body (throws BAD_CONFIG/BAD_POLICY naming the field). */
  parse: (body: unknown) => T;
  handle: (msg: T) => Promise<unknown> | unknown;
}

export interface Page {
  type: string;
  body: string;
}

export interface ChannelCounters {
  accepted: number;
  unauthenticated: number;
  replayed: number;
  malformed: number;
  refused: number;
}

export class ChannelServer {
  readonly counters: ChannelCounters = { accepted: 0, unauthenticated: 0, replayed: 0, malformed: 0, refused: 0 };
  #http: HttpServer;
  #nonces = new Map<string, number>();

  constructor(
    private readonly opts: { secret: string; log: Logger; routes: Record<string, Route<never>>; pages: Record<string, () => Page> },
  ) {
    this.#http = createServer((req, res) => {
      void this.#serve(req, res);
    });
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', (e) => reject(new PallasError('SOCKET', `cannot listen on ${host}:${port}: ${(e as Error).message}`)));
      this.#http.listen(port, host, () => resolve());
    });
    const a = this.#http.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    this.#http.closeAllConnections();
    await new Promise<void>((r) => this.#http.close(() => r()));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET') {
      const page = this.opts.pages[path];
      if (!page) return reply(404, { code: 'NOT_FOUND', message: `no page ${path}` });
      const p = page();
      res.writeHead(200, { 'content-type': p.type });
      res.end(p.body);
      return;
    }
    const route = this.opts.routes[path];
    if (req.method !== 'POST' || !route) return reply(404, { code: 'NOT_FOUND', message: `no ${req.method} ${path}` });
    let body = '';
    try {
      body = await readBody(req);
    } catch (e) {
      this.counters.malformed++;
      return reply(413, { code: 'BAD_CONFIG', message: (e as Error).message });
    }
    const peer = req.socket.remoteAddress ?? '?';
    const ts = String(req.headers['x-pallas-ts'] ?? '');
    const nonce = String(req.headers['x-pallas-nonce'] ?? '');
    const sig = Buffer.from(String(req.headers['x-pallas-sig'] ?? ''), 'hex');
    const want = mac(this.opts.secret, 'POST', path, ts, nonce, body);
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) {
      this.counters.unauthenticated++;
      this.opts.log.warn('rejected an unauthenticated message', { path, peer });
      return reply(401, { code: 'AUTH', message: 'bad or missing signature' });
    }
    const now = Date.now();
    if (!/^\d+$/.test(ts) || Math.abs(now - Number(ts)) > WINDOW_MS || !/^[0-9a-f]{32}$/.test(nonce) || this.#nonces.has(nonce)) {
      this.counters.replayed++;
      this.opts.log.warn('rejected a stale or replayed message', { path, peer });
      return reply(401, { code: 'AUTH', message: 'stale or replayed message' });
    }
    this.#nonces.set(nonce, now);
    for (const [n, t] of this.#nonces) {
      if (now - t <= WINDOW_MS) break; // insertion order is time order
      this.#nonces.delete(n);
    }
    let msg: never;
    try {
      msg = route.parse(JSON.parse(body) as unknown);
    } catch (e) {
      this.counters.malformed++;
      const err = toPallasError(e);
      this.opts.log.warn('rejected a malformed message', { path, peer, error: err.message });
      return reply(400, { code: err.code === 'INTERNAL' ? 'BAD_CONFIG' : err.code, message: err.message });
    }
    try {
      const out = await route.handle(msg);
      this.counters.accepted++;
      return reply(200, out ?? {});
    } catch (e) {
      this.counters.refused++;
      const err = toPallasError(e);
      this.opts.log.warn('refused a message', { path, peer, code: err.code, error: err.message });
      return reply(400, { code: err.code, message: err.message });
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
      if (n > MAX_BODY) {
        reject(new Error(`message larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Sends a signed message; resolves with the peer's JSON answer. UNREACHABLE when the peer does not
 * answer within `timeoutMs`; a refusal rejects with the peer's code and message.
 */
export async function sendSigned(base: string, path: string, body: unknown, secret: string, timeoutMs = 2000): Promise<unknown> {
  const text = JSON.stringify(body);
  const ts = String(Date.now());
  const nonce = randomBytes(16).toString('hex');
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method: 'POST',
      body: text,
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'x-pallas-ts': ts,
        'x-pallas-nonce': nonce,
        'x-pallas-sig': mac(secret, 'POST', path, ts, nonce, text).toString('hex'),
      },
    });
  } catch (e) {
    throw new PallasError('UNREACHABLE', `${base}${path}: ${(e as Error).message}`);
  }
  const answer = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
  if (res.ok) return answer;
  const code =
    answer.code === 'AUTH' || answer.code === 'BAD_CONFIG' || answer.code === 'BAD_POLICY' || answer.code === 'STOPPED'
      ? answer.code
      : 'UNREACHABLE';
  throw new PallasError(code, `${base}${path}: ${answer.message ?? `HTTP ${res.status}`}`);
}

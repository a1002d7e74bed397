// The control channel between the control plane and the agents: HTTP/1.1 with JSON bodies, every
// message signed with HMAC-SHA256 under a shared secret (config or PALLAS_SECRET). The signature
// covers the method, the path, a timestamp, a nonce and the body, so a message cannot be forged,
// altered, replayed (nonces are remembered for the acceptance window) or sent to another endpoint.
// Unsigned, stale, replayed and malformed messages are refused with 401/400, counted and logged;
// a body over MAX_BODY gets 413 before it is read (no signature can be checked on a body not read),
// a known path with the wrong method 405 with Allow. Read-only pages (/metrics, status) are served
// without a signature, as Prometheus expects. docs/live-rack.md documents the protocol for clients.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { PallasError, toPallasError } from '../errors.js';
import type { Logger } from '../util/log.js';

export const MIN_SECRET_LENGTH = 16;
/** A message's timestamp may be this far from the receiver's clock; its nonce is remembered as long. */
export const WINDOW_MS = 30_000;
/** The largest body accepted, bytes. */
export const MAX_BODY = 256 * 1024;

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
  /** No signature, or a wrong one. */
  unauthenticated: number;
  /** Signed, but with a timestamp outside the window or a nonce already seen. */
  replayed: number;
  /** Signed, but with headers of the wrong shape or a body that fails its schema. */
  malformed: number;
  /** Bodies over MAX_BODY, refused unread (whoever sent them). */
  tooLarge: number;
  /** Valid messages the handler refused (an old epoch, a policy the server cannot run). */
  refused: number;
}

export class ChannelServer {
  readonly counters: ChannelCounters = { accepted: 0, unauthenticated: 0, replayed: 0, malformed: 0, tooLarge: 0, refused: 0 };
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
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const page = this.opts.pages[path];
    const route = this.opts.routes[path];
    if (req.method === 'GET' && page) {
      const p = page();
      res.writeHead(200, { 'content-type': p.type });
      res.end(p.body);
      return;
    }
    if (req.method !== 'POST' || !route) {
      if (!page && !route) return reply(404, { code: 'NOT_FOUND', message: `no ${path} here` });
      const allow = page ? 'GET' : 'POST';
      return reply(405, { code: 'METHOD', message: `${path} takes ${allow}, not ${req.method}` }, { allow });
    }
    const peer = req.socket.remoteAddress ?? '?';
    const body = await readBody(req);
    if (body === null) {
      this.counters.tooLarge++;
      this.opts.log.warn('refused a message over the size limit', { path, peer, limit: MAX_BODY });
      // Answered at once; the rest of the body is read and discarded, so that a client that reads
      // the answer only after its upload gets it (up to DRAIN_MAX bytes or 5 s, then the socket closes).
      return reply(413, { code: 'TOO_LARGE', message: `a message body may be at most ${MAX_BODY} bytes` });
    }
    const ts = String(req.headers['x-pallas-ts'] ?? '');
    const nonce = String(req.headers['x-pallas-nonce'] ?? '');
    const sig = Buffer.from(String(req.headers['x-pallas-sig'] ?? ''), 'hex');
    const want = mac(this.opts.secret, 'POST', path, ts, nonce, body);
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) {
      this.counters.unauthenticated++;
      this.opts.log.warn('rejected an unauthenticated message', { path, peer });
      return reply(401, { code: 'AUTH', message: 'bad or missing signature (x-pallas-sig: HMAC-SHA256, hex)' });
    }
    if (!/^\d{1,16}$/.test(ts) || !/^[0-9a-f]{32}$/.test(nonce)) {
      this.counters.malformed++;
      this.opts.log.warn('rejected a message with malformed headers', { path, peer });
      return reply(400, {
        code: 'BAD_CONFIG',
        message: !/^\d{1,16}$/.test(ts)
          ? `x-pallas-ts must be the sender's clock in Unix milliseconds (decimal digits), not '${ts.slice(0, 40)}'`
          : `x-pallas-nonce must be 32 lowercase hex digits (16 random bytes), not '${nonce.slice(0, 40)}'`,
      });
    }
    const now = Date.now();
    const skew = Number(ts) - now;
    if (Math.abs(skew) > WINDOW_MS || this.#nonces.has(nonce)) {
      this.counters.replayed++;
      const why = this.#nonces.has(nonce)
        ? 'nonce already used'
        : `timestamp ${skew > 0 ? '+' : ''}${skew} ms from this host's clock (window ±${WINDOW_MS} ms)`;
      this.opts.log.warn('rejected a stale or replayed message', { path, peer, why });
      return reply(401, { code: 'AUTH', message: `stale or replayed message: ${why}` });
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

/** How much of an oversized body is read and discarded before the connection is closed. */
const DRAIN_MAX = 64 << 20;

/**
 * The body as text, or null when it is over MAX_BODY: then nothing more is kept and the rest is
 * read and discarded, so that the 413 reaches the sender; past DRAIN_MAX bytes or 5 s the socket closes.
 */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const over = () => {
      req.removeAllListeners('data');
      let drained = 0;
      const stop = setTimeout(() => req.socket.destroy(), 5000).unref();
      req.on('data', (d: Buffer) => {
        drained += d.length;
        if (drained > DRAIN_MAX) req.socket.destroy();
      });
      req.on('end', () => clearTimeout(stop));
      resolve(null);
    };
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) return over();
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
      if (n > MAX_BODY) over();
      else parts.push(d);
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

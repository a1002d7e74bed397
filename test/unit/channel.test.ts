// The signed control channel's edges, as a client written from docs/live-rack.md meets them: the
// exact signing recipe works; a wrong method gets 405 with Allow, an unknown path 404; a body over
// the limit gets 413 (answered, not reset) and is counted as too large, not malformed; headers of
// the wrong shape are named; stale and replayed messages say which.
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ChannelServer, MAX_BODY, WINDOW_MS } from '../../lib/control/channel.js';
import { logger } from '../../lib/util/log.js';

const SECRET = 'channel-test-secret-0123456789';
let server: ChannelServer;
let base = '';
const got: unknown[] = [];

beforeAll(async () => {
  server = new ChannelServer({
    secret: SECRET,
    log: logger('test', () => {}),
    routes: {
      '/v1/echo': {
        parse: (b: unknown) => b as never,
        handle: (m: unknown) => {
          got.push(m);
          return { ok: true };
        },
      },
    },
    pages: { '/v1/health': () => ({ type: 'application/json', body: '{"ok":true}' }) },
  });
  const a = await server.listen('127.0.0.1', 0);
  base = `http://127.0.0.1:${a.port}`;
});
afterAll(() => server.close());

/** Signs as docs/live-rack.md says: HMAC-SHA256 over "POST\npath\nts\nnonce\nbody", hex. */
function signed(path: string, body: string, o: { ts?: string; nonce?: string; secret?: string } = {}): Record<string, string> {
  const ts = o.ts ?? String(Date.now());
  const nonce = o.nonce ?? randomBytes(16).toString('hex');
  const sig = createHmac('sha256', o.secret ?? SECRET)
    .update(`POST\n${path}\n${ts}\n${nonce}\n${body}`)
    .digest('hex');
  return { 'content-type': 'application/json', 'x-pallas-ts': ts, 'x-pallas-nonce': nonce, 'x-pallas-sig': sig };
}

async function post(
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; json: { code?: string; message?: string } }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', body, headers });
  return { status: res.status, json: (await res.json()) as { code?: string; message?: string } };
}

describe('control channel', () => {
  it('accepts a message signed by the documented recipe, once', async () => {
    const body = JSON.stringify({ hello: 1 });
    const h = signed('/v1/echo', body);
    expect((await post('/v1/echo', body, h)).status).toBe(200);
    expect(got).toEqual([{ hello: 1 }]);
    const again = await post('/v1/echo', body, h);
    expect(again.status).toBe(401);
    expect(again.json.message).toBe('stale or replayed message: nonce already used');
  });

  it('answers a wrong method with 405 and Allow, an unknown path with 404', async () => {
    const get = await fetch(`${base}/v1/echo`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const put = await fetch(`${base}/v1/health`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET');
    expect((await fetch(`${base}/v1/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/v1/nothing`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('refuses a body over the limit with 413, answered rather than reset, and counts it apart from malformed ones', async () => {
    const before = { ...server.counters };
    for (const size of [MAX_BODY + 1, 600 * 1024, 4 << 20]) {
      const body = 'x'.repeat(size);
      const r = await post('/v1/echo', body, {}); // unsigned, with a content-length
      expect(r.status, `${size} bytes`).toBe(413);
      expect(r.json.code).toBe('TOO_LARGE');
    }
    // Chunked (no content-length): the limit is found while reading.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/v1/echo`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 12; i++) req.write('y'.repeat(64 * 1024));
      req.end();
    });
    expect(status).toBe(413);
    expect(server.counters.tooLarge - before.tooLarge).toBe(4);
    expect(server.counters.malformed).toBe(before.malformed);
    expect(server.counters.unauthenticated).toBe(before.unauthenticated);
  });

  it('names headers of the wrong shape, and says how stale a stale message is', async () => {
    const body = '{}';
    let r = await post('/v1/echo', body, signed('/v1/echo', body, { nonce: 'not-hex' }));
    expect(r.status).toBe(400);
    expect(r.json.message).toBe("x-pallas-nonce must be 32 lowercase hex digits (16 random bytes), not 'not-hex'");
    r = await post('/v1/echo', body, signed('/v1/echo', body, { ts: '2026-12-01T00:00:00Z' }));
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/^x-pallas-ts must be the sender's clock in Unix milliseconds/);
    r = await post('/v1/echo', body, signed('/v1/echo', body, { ts: String(Date.now() - WINDOW_MS - 5000) }));
    expect(r.status).toBe(401);
    expect(r.json.message).toMatch(/^stale or replayed message: timestamp -3\d{4} ms from this host's clock \(window ±30000 ms\)$/);
    r = await post('/v1/echo', body, signed('/v1/echo', body, { secret: 'another-secret-0123456789' }));
    expect(r.status).toBe(401);
    expect(r.json.message).toMatch(/^bad or missing signature/);
  });
});

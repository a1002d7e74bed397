// A kernel-UDP peer for echo tests: sends datagrams with node:dgram and collects what comes back.
import { createSocket } from 'node:dgram';

import { decode, type Header } from '../../lib/wire/codec.js';

/** Requests in flight at most. */
const WINDOW = 64;

export interface PeerResult {
  replies: Map<number, { header: Header; payload: Uint8Array }>;
  invalid: number;
}

/**
 * Sends `requests` (each a datagram whose reqId is unique) plus `junk` to host:port, paced in
 * small bursts, and waits until every request has a reply or `timeoutMs` passes.
 */
export async function exchange(
  host: string,
  port: number,
  requests: Uint8Array[],
  junk: Uint8Array[],
  timeoutMs = 10_000,
  bindIp?: string,
): Promise<PeerResult> {
  const sock = createSocket('udp4');
  const replies = new Map<number, { header: Header; payload: Uint8Array }>();
  let invalid = 0;
  await new Promise<void>((res) => sock.bind({ port: 0, ...(bindIp ? { address: bindIp } : {}) }, () => res()));
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    sock.on('message', (msg) => {
      const d = decode(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
      if (d.reason !== 'ok') {
        invalid++;
        return;
      }
      replies.set(d.header.reqId, { header: d.header, payload: Uint8Array.from(d.payload) });
      if (replies.size === requests.length) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const send = (b: Uint8Array) => new Promise<void>((res, rej) => sock.send(b, port, host, (e) => (e ? rej(e) : res())));
  for (const j of junk) await send(j);
  // At most WINDOW requests in flight: kernel socket buffers (net.core.rmem_max, ~208 KB by
  // default) hold a few hundred small datagrams, so an unwindowed burst is lost by design.
  let wake: (() => void) | undefined;
  sock.on('message', () => wake?.());
  for (let i = 0; i < requests.length; i++) {
    while (i - replies.size >= WINDOW) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
    await send(requests[i]!);
  }
  await done;
  sock.close();
  return { replies, invalid };
}

// A kernel-UDP peer for echo tests: sends datagrams with node:dgram and collects what comes back.
import { createSocket } from 'node:dgram';

import { decode, type Header } from '../../lib/wire/codec.js';

export interface PeerResult { replies: Map<number, { header: Header; payload: Uint8Array }>; invalid: number }

/**
 * Sends `requests` (each a datagram whose reqId is unique) plus `junk` to host:port, paced in
 * small bursts, and waits until every request has a reply or `timeoutMs` passes.
 */
export async function exchange(host: string, port: number, requests: Uint8Array[], junk: Uint8Array[], timeoutMs = 10_000,
  bindIp?: string): Promise<PeerResult> {
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
  for (let i = 0; i < requests.length; i++) {
    await send(requests[i]!);
    // Pace: a burst of 64 then yield, so that neither socket buffer overflows on a 2-core machine.
    if (i % 64 === 63) await new Promise((r) => setTimeout(r, 1));
  }
  await done;
  sock.close();
  return { replies, invalid };
}

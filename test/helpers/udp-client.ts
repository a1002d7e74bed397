// A kernel-UDP client for runtime tests: sends requests to a server and records every datagram
// that comes back, decoded, in arrival order, with its arrival time.
import { createSocket, type Socket } from 'node:dgram';

import { decode, encode, kvPayload, spinPayload, type Header } from '../../lib/wire/codec.js';
import { Clone, Flag, Type } from '../../lib/wire/gen.js';

export interface Got {
  header: Header;
  payload: Uint8Array;
  atMs: number;
}

export class UdpClient {
  readonly got: Got[] = [];
  invalid = 0;
  #sock: Socket;
  #waiters: (() => void)[] = [];
  #nextId = 1;
  private constructor(
    sock: Socket,
    readonly host: string,
    readonly port: number,
  ) {
    this.#sock = sock;
    sock.on('message', (m) => {
      const d = decode(new Uint8Array(m.buffer, m.byteOffset, m.byteLength));
      if (d.reason !== 'ok') this.invalid++;
      else this.got.push({ header: d.header, payload: Uint8Array.from(d.payload), atMs: performance.now() });
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async open(host: string, port: number): Promise<UdpClient> {
    const sock = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    return new UdpClient(sock, host, port);
  }

  async raw(b: Uint8Array): Promise<void> {
    await new Promise<void>((res, rej) => this.#sock.send(b, this.port, this.host, (e) => (e ? rej(e) : res())));
  }

  /** Sends one request; returns its reqId. */
  async send(type: number, payload: Uint8Array, flags = 0, index?: number): Promise<number> {
    const reqId = this.#nextId++;
    await this.raw(encode({ type, reqId, flags, index: index ?? reqId }, payload));
    return reqId;
  }
  spin(type: number, ns: number, flags = 0): Promise<number> {
    return this.send(type, spinPayload(ns), flags);
  }
  kv(type: number, key: number, count: number): Promise<number> {
    return this.send(type, kvPayload(key, count));
  }

  /** Waits until `pred` holds over what has arrived, or throws after timeoutMs. */
  async until(pred: (got: Got[]) => boolean, timeoutMs = 10_000, what = 'replies'): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!pred(this.got)) {
      const left = end - performance.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (have ${this.got.length})`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  byId(reqId: number): Got | undefined {
    return this.got.find((g) => g.header.reqId === reqId);
  }
  replies(): Got[] {
    return this.got.filter((g) => g.header.flags & Flag.RESPONSE && !(g.header.flags & Flag.DROP_NOTICE));
  }
  notices(): Got[] {
    return this.got.filter((g) => g.header.flags & Flag.DROP_NOTICE);
  }
  bounced(): Got[] {
    return this.got.filter((g) => !(g.header.flags & Flag.RESPONSE) && g.header.flags & Flag.BOUNCED);
  }
  close(): void {
    this.#sock.close();
  }
}

export { Clone, Flag, Type };

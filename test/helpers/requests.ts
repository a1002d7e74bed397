// Request sets for echo tests: N requests of every type in proto/, with distinct ids and payloads,
// and a set of malformed datagrams with the reason each must be counted under.
import { encode, kvPayload, spinPayload } from '../../lib/wire/codec.js';
import { TYPES } from '../../lib/wire/gen.js';

export function requestsOfEveryType(perType: number): { reqId: number; type: number; bytes: Uint8Array }[] {
  const out: { reqId: number; type: number; bytes: Uint8Array }[] = [];
  let id = 1;
  for (const t of TYPES) {
    for (let i = 0; i < perType; i++) {
      const payload = t.payload === 'kv' ? kvPayload(i, 1 + (i % 100)) : spinPayload(1000 + i);
      out.push({ reqId: id, type: t.id, bytes: encode({ type: t.id, reqId: id, index: id * 7, sendTs: id * 13 }, payload) });
      id++;
    }
  }
  return out;
}

/** Malformed datagrams and the echo counter each must land in. */
export function malformed(): { bytes: Uint8Array; counter: string }[] {
  const good = encode({ type: 1 }, spinPayload(5));
  const withByte = (i: number, v: number) => {
    const b = Uint8Array.from(good);
    b[i] = v;
    return b;
  };
  return [
    { bytes: good.subarray(0, 5), counter: 'n_drop_too_short' },
    { bytes: withByte(0, 0x51), counter: 'n_drop_bad_magic' },
    { bytes: withByte(0, 0xa7), counter: 'n_drop_bad_version' },
    { bytes: withByte(2, 0x03), counter: 'n_drop_bad_flags' },
    { bytes: withByte(1, 200), counter: 'n_drop_unknown_type' },
    { bytes: encode({ type: 10 }, new Uint8Array(2)), counter: 'n_drop_bad_payload' },
    { bytes: encode({ type: 1, flags: 4 }), counter: 'n_unexpected_reply' },
  ];
}

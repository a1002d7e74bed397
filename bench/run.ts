// `npm run bench -- <name> [options]`: the benchmark harness. Each benchmark prints its figures and
// writes JSON under results/ (git-ignored). Available now: io, runtime, sim.
import { parseArgs } from 'node:util';
import { join } from 'node:path';

import { packageRoot } from '../lib/native.js';
import { runIo } from './io/index.js';
import { runRuntimeBench } from './runtime/index.js';
import { runSimBench } from './sim/index.js';

const { positionals, values } = parseArgs({
  allowPositionals: true, strict: true,
  options: {
    duration: { type: 'string', default: '2000' }, out: { type: 'string' }, requests: { type: 'string' }, help: { type: 'boolean', default: false },
  },
});
const name = positionals[0];
if (values.help || !name) {
  process.stdout.write('usage: npm run bench -- <name> [--duration MS] [--requests N] [--out DIR]\n' +
    '  io       transport packets/s, next to dpdk-testpmd (--duration per point)\n' +
    '  runtime  the server runtime: dispatcher req/s, added latency, RocksDB through it vs direct, DPDK echo vs testpmd\n' +
    '  sim      simulator events/s (M/M/16, 10^7 requests) and the Fig. 2b scenario (--requests per run)\n');
  process.exit(name || values.help ? 0 : 2);
}
const out = values.out ?? join(packageRoot, 'results');
const durationMs = Number(values.duration);
if (!Number.isInteger(durationMs) || durationMs < 100) {
  process.stderr.write('bench: --duration must be an integer >= 100 (ms)\n');
  process.exit(2);
}
if (name === 'io') {
  await runIo({ durationMs, out, log: (s) => process.stdout.write(`${s}\n`) });
} else if (name === 'runtime') {
  await runRuntimeBench({ durationMs, out, log: (s) => process.stdout.write(`${s}\n`) });
} else if (name === 'sim') {
  const requests = values.requests === undefined ? undefined : Number(values.requests);
  if (requests !== undefined && (!Number.isSafeInteger(requests) || requests < 10)) {
    process.stderr.write('bench: --requests must be an integer >= 10\n');
    process.exit(2);
  }
  await runSimBench({ out, log: (s) => process.stdout.write(`${s}\n`), ...(requests ? { requests } : {}) });
} else {
  process.stderr.write(`bench: unknown benchmark '${name}' (available: io, runtime, sim)\n`);
  process.exit(2);
}

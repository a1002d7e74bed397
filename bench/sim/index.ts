// `npm run bench -- sim`: the simulator's speed (events/s on one core, M/M/16 at 10^7 requests,
// next to Erlang C) and the Fig. 2b scenario. Tables on stdout; JSON and CSV under results/sim/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from '../../lib/native.js';
import { formatTable, writeCsv } from '../../lib/sim/format.js';
import { runScenario } from '../../lib/sim/run.js';
import { loadScenario } from '../../lib/sim/scenario.js';

export async function runSimBench(o: { out: string; log: (s: string) => void; requests?: number }): Promise<void> {
  const dir = join(o.out, 'sim');
  mkdirSync(dir, { recursive: true });
  for (const name of ['mm16', 'fig2b']) {
    const sc = loadScenario(join(packageRoot, 'bench/scenarios', `${name}.yaml`));
    if (o.requests) sc.requests = o.requests;
    const doc = await runScenario(sc);
    o.log(formatTable(doc));
    if (name === 'mm16') {
      const r = doc.runs[0]!;
      // Erlang C for k = 16, a = 12.8: P(wait) = 0.304884, E[W] = 0.095276 (service = 1 µs).
      o.log(
        `mm16: ${(r.events / 1e6).toFixed(1)} M events in ${r.wallS.toFixed(2)} s = ${(r.eventsPerSec / 1e6).toFixed(2)} M events/s on one core; ` +
          `P(wait) ${r.waitedFraction.toFixed(4)} (Erlang C 0.3049), E[W] ${r.waitUs.mean.toFixed(4)} µs (0.0953)\n`,
      );
    }
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(doc, null, 2)}\n`);
    writeCsv(doc, join(dir, name));
  }
  o.log(`results: ${dir}`);
}

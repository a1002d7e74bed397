// The control plane's loop on scripted monitor reads: when the mix shifts, it re-plans at the first
// monitor interval whose accumulated replies reach minSamples, i.e. within a few intervals, and
// installs the tables before it pushes policies. ScriptedSwitch is a test double of the switch's
// monitor registers (the live rack's tests use the real software switch; here the counts must be
// exact). Servers register through the real signed channel; their agent is one HTTP endpoint that
// records the policy pushes (and does not check signatures: the channel's own tests do).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import type { MonitorRead } from '../../lib/control/adapt.js';
import { sendSigned } from '../../lib/control/channel.js';
import { ControlPlane } from '../../lib/control/plane.js';
import type { SwitchTables } from '../../lib/control/policy.js';
import type { SwitchDriver } from '../../lib/switch/driver.js';
import { diffTables, type TableOp } from '../../lib/switch/tables.js';
import { logger } from '../../lib/util/log.js';
import { Type } from '../../lib/wire/gen.js';

const SECRET = 'control-loop-secret-0123';

class ScriptedSwitch implements SwitchDriver {
  readonly kind = 'scripted';
  readonly policy = 'pallas';
  readonly capacity = 8;
  mix = { short: 25, long: 25 };
  reads = 0;
  writes: SwitchTables[] = [];
  constructor(readonly events: string[]) {}
  #tables: SwitchTables | null = null;
  async writeTables(t: SwitchTables): Promise<TableOp[]> {
    const ops = diffTables(this.#tables, t);
    this.#tables = t;
    this.writes.push(t);
    this.events.push('tables');
    return ops;
  }
  tables(): SwitchTables | null {
    return this.#tables;
  }
  async setServer(): Promise<void> {}
  // Cumulative registers, as a switch keeps them: every read adds one interval of the mix.
  #regs: MonitorRead = {
    requests: new Array<number>(256).fill(0),
    replies: new Array<number>(256).fill(0),
    timeUnits: new Array<number>(256).fill(0),
    notices: new Array<number>(256).fill(0),
  };
  async readMonitor(): Promise<MonitorRead> {
    this.reads++;
    for (const [t, n, meanNs] of [
      [Type.SHORT, this.mix.short, 10_000],
      [Type.LONG, this.mix.long, 100_000],
    ] as const) {
      this.#regs.requests[t]! += n;
      this.#regs.replies[t]! += n;
      this.#regs.timeUnits[t] = (this.#regs.timeUnits[t]! + (n * meanNs) / 16) >>> 0;
    }
    return {
      requests: this.#regs.requests.slice(),
      replies: this.#regs.replies.slice(),
      timeUnits: this.#regs.timeUnits.slice(),
      notices: this.#regs.notices.slice(),
    };
  }
  async readRegisters(): Promise<null> {
    return null;
  }
  async counters(): Promise<Record<string, number>> {
    return {};
  }
}

/** Waits until `events` has not grown for 150 ms. */
async function quiet(events: string[]): Promise<void> {
  let n = -1;
  while (events.length !== n) {
    n = events.length;
    await new Promise((r) => setTimeout(r, 150));
  }
}

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe('control loop', () => {
  it('re-plans at the first interval with minSamples of the new mix, tables first', async () => {
    const events: string[] = [];
    const agent = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d;
      });
      req.on('end', () => {
        events.push(`policy ${(JSON.parse(body) as { epoch: number }).epoch}`);
        res.end('{}');
      });
    });
    await new Promise<void>((r) => agent.listen(0, '127.0.0.1', () => r()));
    const agentUrl = `http://127.0.0.1:${(agent.address() as AddressInfo).port}`;
    const sw = new ScriptedSwitch(events);
    const control = await new ControlPlane(
      sw,
      {
        secret: SECRET,
        listen: { port: 0 },
        monitorMs: 60_000,
        deadAfterMs: 600_000,
        minSamples: 200,
        deltaCores: 1,
        groups: 2,
        evaluate: 'first',
        workload: [
          { type: 'short', meanUs: 10, share: 0.5 },
          { type: 'long', meanUs: 100, share: 0.5 },
        ],
      },
      logger('test', () => {}),
    ).start();
    stop = async () => {
      await control.stop();
      agent.closeAllConnections();
      await new Promise((r) => agent.close(r));
    };
    for (let i = 0; i < 4; i++) {
      await sendSigned(
        control.url,
        '/v1/register',
        { agent: agentUrl, addr: { ip: '127.0.0.1', port: 30000 + i }, cores: 1, name: `s${i}` },
        SECRET,
      );
    }
    const shortCores = () => control.status().plan!.groups.find((g) => g.types.includes('short'))!.cores;
    await control.tick(); // the joins: a plan from the declared (port) workload; and the first read
    expect(control.alive()).toEqual([0, 1, 2, 3]);
    expect(shortCores()).toBe(1);
    expect(control.status().adaptations).toBe(0);
    // Port mix, 50 replies per interval: the 4th read reaches minSamples, and the first measured
    // estimate replaces the declared one.
    for (let i = 0; i < 3; i++) await control.tick();
    expect(control.status().adaptations).toBe(1);
    expect(shortCores()).toBe(1);
    await quiet(events); // the first plans' pushes are done
    const writes = sw.writes.length;
    events.length = 0;
    // Normal mix: short needs ~1.9 cores. Again 200 replies in 4 intervals, then a new plan.
    sw.mix = { short: 45, long: 5 };
    let n = 0;
    while (control.status().adaptations === 1 && n < 20) {
      await control.tick();
      n++;
    }
    expect(n).toBe(4);
    expect(shortCores()).toBe(2);
    expect(sw.writes.length).toBe(writes + 1);
    // Tables first, then the servers whose policy changed, each with the new epoch.
    await quiet(events);
    expect(events[0]).toBe('tables');
    expect(events.slice(1).length).toBeGreaterThan(0);
    expect(events.slice(1), JSON.stringify(events)).toEqual(events.slice(1).map(() => `policy ${control.epoch}`));
    expect(sw.tables()!.groups[sw.tables()!.typeToGroup[String(Type.SHORT)]!]!.wrr).toHaveLength(2);
    // Steady: the same mix does not re-plan again.
    for (let i = 0; i < 8; i++) await control.tick();
    expect(control.status().adaptations).toBe(2);
  });
});

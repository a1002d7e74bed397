// The CPU budget of a rack on one machine (the embedded default of `npm run bench`). Every request
// crosses the generator, the switch and a server's dispatcher twice and a worker once, and on one
// machine they all share its cores; a measurement of scheduling needs each thread to run when it
// has work, not when the OS gets round to it. The budget decides:
//
// - the mode: `dedicated` when the machine has a core for every busy thread (the generator, the
//   switch, each dispatcher and worker) and one to spare: each busy-polls on a core of its own, as
//   in a deployment. Otherwise `shared`: nothing spins but the generator's last few µs before a
//   send (its thread at SCHED_FIFO where the process may: a send then waits for the timer, not for
//   other threads); every thread blocks as soon as it has nothing to do, and each worker is pinned
//   to a core of its own when there are enough (two workers on one core would halve each other's speed).
// - the loads the machine carries honestly, from what each role costs per request, as measured on
//   the running rack (RoleCosts): `shared`, while the path and the work together need at most
//   SHARED_HEADROOM of the cores; `dedicated`, while no path thread is busier than
//   DEDICATED_HEADROOM of its core. A load beyond is not run: its latency would measure the
//   machine, not the scheduling. docs/bench.md explains the figures it prints.
import type { WaitMode } from './runtime/config.js';
import { allowedCpus } from './util/cpus.js';

/** Shared cores: the path and the work may use this much of them together. */
export const SHARED_HEADROOM = 0.8;
/** Dedicated cores: a path thread may be this busy. */
export const DEDICATED_HEADROOM = 0.8;
/**
 * The generator's longest spin before a send on shared cores, µs: about a VM's usual timer
 * lateness. It sleeps until that long before the send is due, so it mostly wakes on time or late
 * and spins little (docs/bench.md measures it).
 */
export const SHARED_SEND_SPIN_US = 30;
/**
 * Shared cores, at low rates: the generator may spin longer before a send (up to
 * SHARED_SEND_SPIN_MAX_US), as long as its spinning stays within this share of a CPU; a VM's
 * wake-ups are 100 µs late often enough to make a run's sends late when the host is busy.
 */
export const SHARED_SPIN_CPU = 0.03;
export const SHARED_SEND_SPIN_MAX_US = 200;

export interface RackPlan {
  cores: number;
  servers: number;
  workers: number;
  mode: 'dedicated' | 'shared';
  wait: WaitMode;
  /** The generator's longest spin before a send, µs (shared cores: at high rates; see sendSpinAt). */
  sendSpinUs: number;
  /** The generator's thread at SCHED_FIFO where it may (shared cores: a send then waits for no thread). */
  realtimeSend: boolean;
  /**
   * The CPUs of the threads that get one: dedicated, the switch and each server's dispatcher and
   * workers; shared, each server's workers (when there are no more workers than cores).
   */
  pin?: { switch?: number; servers: { dispatcher?: number; workers: number[] }[] };
  why: string;
}

/** Busy threads of a rack: the generator, the switch, and per server its dispatcher and workers. */
export function busyThreads(servers: number, workers: number): number {
  return 2 + servers * (1 + workers);
}

/**
 * The rack for this machine: as asked, or sized to it (dedicated cores for as many servers of one
 * worker as fit, 2 to 8; otherwise 2 servers of one worker on shared cores), and how its threads wait.
 */
export function planRack(want: { servers?: number; workers?: number } = {}, cpus = allowedCpus()): RackPlan {
  const cores = cpus.length;
  const fit = Math.min(8, Math.floor((cores - 3) / 2)); // servers of one worker on dedicated cores, one core spare
  const sized = want.servers === undefined && want.workers === undefined;
  const servers = want.servers ?? (fit >= 2 ? fit : 2);
  const workers = want.workers ?? 1;
  const threads = busyThreads(servers, workers);
  const size = sized ? `${servers} servers of ${workers} worker` : `${servers} server(s) × ${workers} worker(s) as asked`;
  let next = 0;
  const take = () => cpus[next++]!;
  if (threads + 1 <= cores) {
    next = 1; // the first CPU is left to the OS, the Node threads and the generator
    const pin = {
      switch: take(),
      servers: Array.from({ length: servers }, () => ({ dispatcher: take(), workers: Array.from({ length: workers }, take) })),
    };
    return {
      cores,
      servers,
      workers,
      mode: 'dedicated',
      wait: 'poll',
      sendSpinUs: 500,
      realtimeSend: false,
      pin,
      why:
        `${cores} CPUs: ${size}; a core for each of its ${threads} busy threads ` +
        '(the generator, the switch, each dispatcher and worker) and one spare: they busy-poll on their own cores',
    };
  }
  const spread =
    servers * workers <= cores
      ? { servers: Array.from({ length: servers }, () => ({ workers: Array.from({ length: workers }, take) })) }
      : undefined;
  return {
    cores,
    servers,
    workers,
    mode: 'shared',
    wait: 'block',
    sendSpinUs: SHARED_SEND_SPIN_US,
    realtimeSend: true,
    ...(spread ? { pin: spread } : {}),
    why:
      `${cores} CPU(s): ${size}; its ${threads} busy threads share them: every thread blocks when it has nothing to do` +
      `${spread ? ', each worker on a CPU of its own' : ''}, and the generator spins at most ${SHARED_SEND_SPIN_US} µs before a send ` +
      `(at low rates up to ${SHARED_SEND_SPIN_MAX_US} µs, within ${Math.round(SHARED_SPIN_CPU * 100)} % of a CPU), at SCHED_FIFO where it may`,
  };
}

/** The generator's longest spin before a send at `rateRps` requests/s, µs. */
export function sendSpinAt(plan: RackPlan, rateRps: number): number {
  if (plan.mode === 'dedicated' || !(rateRps > 0)) return plan.sendSpinUs;
  return Math.round(Math.min(SHARED_SEND_SPIN_MAX_US, Math.max(plan.sendSpinUs, (SHARED_SPIN_CPU * 1e6) / rateRps)));
}

/** What the rack's roles cost (measured on a running rack): CPU µs per request, and what runs whatever the load. */
export interface RoleCosts {
  client: number;
  switch: number;
  /** The servers' dispatchers, per request (a request meets one). */
  dispatcher: number;
  /** The workers: the work and their share of the path. */
  work: number;
  /**
   * The agents' and the control plane's own threads (heartbeats, planning, the bench itself), in
   * CPUs: a cost per second, not per request.
   */
  background: number;
}

/** The request path's CPU per request, µs: generator, switch and dispatcher. */
export function pathCost(c: RoleCosts): number {
  return c.client + c.switch + c.dispatcher;
}

/**
 * The highest load (fraction of the rack's capacity) the machine carries honestly, and why, for a
 * workload of mean service `meanUs` per request (capacity = servers × workers / meanUs); `need`
 * says what a load asks of the machine.
 */
export function carriedLoad(
  plan: RackPlan,
  costs: RoleCosts,
  meanUs: number,
): { maxLoad: number; why: string; need: (load: number) => string } {
  const capacityRps = (plan.servers * plan.workers * 1e6) / meanUs;
  const f = (x: number) => x.toFixed(1);
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  if (plan.mode === 'shared') {
    const perReq = pathCost(costs) + costs.work; // CPU µs per request
    const coresAt = (load: number) => costs.background + (load * capacityRps * perReq) / 1e6;
    const maxLoad = Math.max(0, Math.min(1, (SHARED_HEADROOM * plan.cores - costs.background) / (coresAt(1) - costs.background)));
    return {
      maxLoad,
      why:
        `a request costs ${f(pathCost(costs))} µs of path CPU and ${f(costs.work)} µs of work, beside ${costs.background.toFixed(2)} CPUs ` +
        `of agents and control plane; load L runs L × ${Math.round(capacityRps)} req/s, so up to load ${maxLoad.toFixed(2)} ` +
        `the rack needs at most ${pct(SHARED_HEADROOM)} of the ${plan.cores} CPUs`,
      need: (load) => `needs ${coresAt(load).toFixed(2)} of ${plan.cores} CPUs (more than ${pct(SHARED_HEADROOM)})`,
    };
  }
  // One core each: the switch and the generator see every request, a dispatcher its server's share.
  const threads = [
    { who: 'the switch', us: costs.switch, share: 1 },
    { who: 'the generator', us: costs.client, share: 1 },
    { who: 'a dispatcher', us: costs.dispatcher, share: 1 / plan.servers },
  ].map((t) => ({ ...t, busyAtFull: (capacityRps * t.share * t.us) / 1e6 })); // its core's busy fraction at load 1
  const worst = threads.reduce((a, b) => (b.busyAtFull > a.busyAtFull ? b : a));
  const maxLoad = Math.min(1, DEDICATED_HEADROOM / Math.max(worst.busyAtFull, 1e-9));
  return {
    maxLoad,
    why:
      `the busiest path thread, ${worst.who} (${f(worst.us)} µs a request), is ${pct(worst.busyAtFull)} busy at full load` +
      (maxLoad < 1 ? `, ${pct(DEDICATED_HEADROOM)} of its core at load ${maxLoad.toFixed(2)}` : ''),
    need: (load) => `${worst.who} would be ${pct(load * worst.busyAtFull)} busy (more than ${pct(DEDICATED_HEADROOM)})`,
  };
}

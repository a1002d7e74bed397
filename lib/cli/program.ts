// The `pallas` command line on commander: every subcommand with its options, help and examples;
// usage errors (unknown flags or commands, with a suggestion for a typo, missing values, stray
// arguments) reported in one line with a hint, exit 2; failures in one line with their code, or
// as JSON under --json. Exit codes: 0 done; 1 failed while running; 2 the command line or a config
// is wrong; 3 `doctor --require` found a required piece missing; 130 interrupted.
import { Argument, Command, CommanderError, Option } from 'commander';

import { DEFAULT_CONTROL_PORT } from '../control/plane.js';
import { PallasError, toPallasError } from '../errors.js';
import { DEFAULT_EAL_ARGS } from '../io/transport.js';
import { DEFAULT_KV_PATH } from '../runtime/config.js';
import { SWITCH_POLICIES } from '../switch/soft.js';
import { VERSION } from '../version.js';
import { DEFAULT_UDP_PORT } from '../wire/gen.js';
import type { Opts } from './opts.js';

type Run = (values: Opts) => Promise<void>;
export interface Commands {
  doctor: Run;
  echo: Run;
  server: Run;
  kvLoad: Run;
  up: Run;
  status: Run;
  control: Run;
  agent: Run;
  switch: Run;
  client: Run;
  clock: Run;
  inventory: (sub: 'check' | 'convert', file: string, values: Opts) => Promise<void>;
  schema: (format: 'scenario' | 'inventory', values: Opts) => Promise<void>;
  sim: (scenario: string, values: Opts) => Promise<void>;
}

/** commander's camelCase option keys back to the flags' own names (`serverId` → `server-id`). */
function flags(o: Record<string, unknown>): Opts {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`), v]));
}

const EXIT_CODES = `
Exit codes: 0 done; 1 failed while running; 2 the command line or a config is wrong;
3 doctor --require found a required piece missing; 130 interrupted.
Docs: README.md and docs/ in the package.`;

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

export function buildProgram(run: Commands): Command {
  const program = new Command('pallas')
    .description(`pallas ${VERSION}: rack-scale µs-level CPU scheduling through in-network workload shaping`)
    .version(VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .addHelpCommand('help [command]', 'print the help of a command')
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .addHelpText('after', EXIT_CODES);
  const cmd = (name: string, summary: string) => program.command(name).description(summary).allowExcessArguments(false);
  const json = (c: Command, what = 'print the ready line and the results as JSON lines') => c.option('--json', what);
  const stdin = (c: Command) =>
    c.option('--stdin', 'read the config as one JSON line on standard input, and stop when it closes (how the bench drives a testbed)');

  cmd(
    'doctor',
    'what this machine offers (addon, DPDK, RocksDB, hugepages, cores, TSC, the Tofino SDE and program) and what each missing piece disables',
  )
    .option('--json', 'print the checks as one JSON document')
    .option('--switch <host:port>', 'also ask the BFRuntime server there which programs it runs')
    .option('--require <list>', 'exit 3 naming each listed check that is missing (comma-separated check names)')
    .addHelpText('after', examples('pallas doctor', 'pallas doctor --require addon,dpdk,hugepages'))
    .action(async (o) => run.doctor(flags(o)));

  json(
    cmd('echo', 'answer every valid Pallas request with a reply (a transport test server), until SIGINT/SIGTERM; then print its counters')
      .option('--transport <kind>', 'udp or dpdk', 'udp')
      .option('--bind <ip>', 'udp: the address to bind', '127.0.0.1')
      .option('--port <n>', 'the UDP port', String(DEFAULT_UDP_PORT))
      .option('--device <spec>', 'dpdk: a vdev ("net_af_xdp0,iface=veth0") or a probed device')
      .option('--ip <ip>', 'dpdk: our address')
      .option('--eal <args>', `dpdk: EAL arguments (default "${DEFAULT_EAL_ARGS.join(' ')}")`)
      .option('--server-id <n>', 'the id written into replies', '0'),
    'print the ready line and the counters as JSON',
  )
    .addHelpText(
      'after',
      examples('pallas echo --port 9000', 'pallas echo --transport dpdk --device net_af_xdp0,iface=veth0 --ip 198.18.0.1'),
    )
    .action(async (o) => run.echo(flags(o)));

  json(
    cmd(
      'server',
      'a Pallas server: a dispatcher and pinned workers running the real handlers (spin, TPC-C, RocksDB) under cfcfs or darc, until SIGINT/SIGTERM',
    )
      .option('--config <file>', 'server config, YAML or JSON (docs/runtime.md)')
      .option('--workers <n>', "override the config's worker count")
      .option('--server-id <n>', "override the config's server id")
      .option('--transport <kind>', 'override the transport: udp or dpdk (with the flags below)')
      .option('--bind <ip>', 'udp: the address to bind')
      .option('--port <n>', 'the UDP port')
      .option('--device <spec>', 'dpdk: a vdev or a probed device')
      .option('--ip <ip>', 'dpdk: our address')
      .option('--eal <args>', 'dpdk: EAL arguments'),
    'print the ready line and the statistics as JSON',
  )
    .addHelpText('after', examples('pallas server --workers 4 --port 9011', 'pallas server --config server.yaml --json'))
    .action(async (o) => run.server(flags(o)));

  json(
    cmd('kv-load', "build the RocksDB database the GET/SCAN handlers read, and optionally time the store's calls")
      .option('--path <dir>', 'the database', DEFAULT_KV_PATH)
      .option('--keys <n>', 'keys', '5000')
      .option('--value-bytes <n>', 'bytes per value', '64')
      .option('--time <ops>', 'then time these calls directly (mean µs), e.g. get:10,scan:5000'),
    'print the result as JSON',
  )
    .addHelpText('after', examples('pallas kv-load', 'pallas kv-load --time get:10,scan:5000 --json'))
    .action(async (o) => run.kvLoad(flags(o)));

  json(
    cmd(
      'up',
      'a whole rack on this machine: the control plane with the software switch, ' +
        'and N servers with their agents (child processes), until SIGINT/SIGTERM',
    )
      .option('--servers <n>', 'servers (default: sized to this machine, said on screen)')
      .option('--workers <n>', 'workers per server')
      .option('--policy <name>', `the switch's policy: ${SWITCH_POLICIES.join(', ')}`)
      .option('--switch-port <n>', "the switch's UDP port, where clients send (default 9010)")
      .option('--control-port <n>', `the control plane's HTTP port (default ${DEFAULT_CONTROL_PORT})`)
      .option('--server-port <n>', "the first server's UDP port (default 9101)")
      .option('--agent-port <n>', "the first agent's HTTP port (default: any free port)")
      .option('--kv [dir]', 'give the servers a RocksDB store for GET/SCAN, built if missing (default dir /dev/shm/pallas-kv)')
      .option('--config <file>', 'control-plane config: workload, δ, monitor interval (docs/live-rack.md)'),
    'print the ready line as JSON',
  )
    .addHelpText('after', examples('pallas up', 'pallas up --servers 2 --workers 2 --policy po2', 'pallas up --kv'))
    .action(async (o) => run.up(flags(o)));

  json(
    cmd('status', "the rack's groups, servers, WRR weights, epoch and switch counters").option(
      '--control <url>',
      'the control plane',
      `http://127.0.0.1:${DEFAULT_CONTROL_PORT}`,
    ),
    'print the status as JSON',
  )
    .addHelpText('after', examples('pallas status', 'pallas status --control http://10.0.0.1:9020 --json'))
    .action(async (o) => run.status(flags(o)));

  stdin(
    json(
      cmd('control', 'the control plane and the software switch it hosts (or the Tofino driver, with switch: { kind: tofino })')
        .option('--config <file>', 'control-plane config (docs/live-rack.md, docs/tofino.md)')
        .option('--listen <ip:port>', "where the control plane's HTTP listens")
        .option('--switch-port <n>', "the software switch's UDP port")
        .option('--slots <n>', 'server slots')
        .option('--policy <name>', `the software switch's policy: ${SWITCH_POLICIES.join(', ')}`),
    ),
  )
    .addHelpText(
      'after',
      examples('pallas control --listen 10.0.0.1:9020 --switch-port 9010', 'pallas control --config control.yaml --json'),
    )
    .action(async (o) => run.control(flags(o)));

  stdin(
    json(
      cmd(
        'agent',
        'a server runtime and its agent, which registers with the control plane (the shared secret comes from the config or PALLAS_SECRET)',
      )
        .option('--control <url>', `the control plane (default: the config's control, else http://127.0.0.1:${DEFAULT_CONTROL_PORT})`)
        .option('--config <file>', 'agent config: server, listen, name (docs/live-rack.md)')
        .option('--port <n>', "the server's UDP port")
        .option('--workers <n>', 'workers')
        .option('--server-id <n>', 'the server id')
        .option('--listen <ip:port>', "where the agent's HTTP listens")
        .option('--name <name>', "the agent's name in the control plane's status and the logs"),
    ),
  )
    .addHelpText('after', examples('pallas agent --control http://127.0.0.1:9020 --port 9101 --workers 2'))
    .action(async (o) => run.agent(flags(o)));

  json(
    cmd('switch', 'a software switch with static tables and no control plane')
      .option('--config <file>', 'the switch config: policy, servers, tables (docs/live-rack.md)')
      .option('--port <n>', 'the UDP port')
      .option('--bind <ip>', 'the address to bind'),
  )
    .addHelpText('after', examples('pallas switch --config switch.yaml'))
    .action(async (o) => run.switch(flags(o)));

  stdin(
    json(
      cmd(
        'client',
        "the open-loop load generator: sends on a precomputed schedule, measures latency from the scheduled time, reports every request's fate",
      )
        .option('--config <file>', 'client config: types, phases, arrivals (docs/bench.md)')
        .option('--dst <ip:port>', 'where to send')
        .option('--rate <rps>', 'requests per second (every phase)')
        .option('--duration <ms>', 'ms per phase'),
      'print the report as JSON (counts and HdrHistogram encodings, for merging)',
    ),
  )
    .addHelpText('after', examples('pallas client --config client.yaml --dst 127.0.0.1:9010 --rate 20000 --duration 2000'))
    .action(async (o) => run.client(flags(o)));

  json(
    stdin(
      cmd(
        'clock',
        "answer each line of standard input with this host's wall clock, CPU count and Pallas version (JSON): how the bench checks a testbed's hosts",
      ),
    ),
    'accepted (the answers are JSON anyway)',
  ).action(async (o) => run.clock(flags(o)));

  const inv = cmd('inventory', "a testbed's ansible inventory (docs/deploy.md)");
  inv
    .command('check')
    .argument('<file>', 'the ansible inventory')
    .allowExcessArguments(false)
    .description('validate the inventory as the bench reads it, and print the hosts and roles it describes')
    .action(async (file: string, o) => run.inventory('check', file, flags(o)));
  inv
    .command('convert')
    .argument('<file>', 'an inventory of the retired testbed format')
    .allowExcessArguments(false)
    .description('turn an inventory of the retired testbed format into the ansible inventory that --testbed and deploy/ansible read')
    .option('--out <file>', 'write it there (default: standard output)')
    .action(async (file: string, o) => run.inventory('convert', file, flags(o)));

  cmd('schema', 'print the JSON Schema of a file format, for editors (the same schema validates the files)')
    .addArgument(
      new Argument('<format>', "scenario: a simulator scenario; inventory: a testbed's ansible inventory").choices([
        'scenario',
        'inventory',
      ]),
    )
    .option('--out <file>', 'write it there (default: standard output)')
    .addHelpText(
      'after',
      examples('pallas schema scenario --out scenario.schema.json', 'pallas schema inventory') +
        '\nThe package carries both as schemas/scenario.schema.json and schemas/inventory.schema.json.\n' +
        'YAML editors with the YAML language server read a first line of the form\n' +
        '  # yaml-language-server: $schema=<path or URL of the schema>\n',
    )
    .action(async (format: 'scenario' | 'inventory', o) => run.schema(format, flags(o)));

  cmd(
    'sim',
    'simulate every system × load of a scenario on the shared policy code: a table, the Pallas-vs-baseline summary, and CSV, JSON, SVG/PNG plots',
  )
    .argument(
      '<scenario>',
      'a scenario file (YAML or JSON), a scenario name from bench/scenarios (fig2b) or bench/scenarios/paper (fig2b-rack), ' +
        "or paper for all of the paper's",
    )
    .option('--out <dir>', 'where results go (DIR/<scenario>/)', 'results/sim')
    .addOption(new Option('--no-write', 'write no files'))
    .option('--json', 'print the result document instead of the table ({ scenario, runs: [...] })')
    .option('--per-type', 'add a line per request type to the table')
    .option('--requests <n>', "override the scenario's request count per run")
    .option('--seed <n>', "override the scenario's seed")
    .option('--quiet', 'no progress bar')
    .option('--jobs <n>', "runs at once, from one queue across all the scenarios (default: the machine's cores, at most 8)")
    .addHelpText(
      'after',
      examples('pallas sim fig2b', 'pallas sim paper --requests 200000', 'pallas sim my-scenario.yaml --json --no-write'),
    )
    .action(async (scenario: string, o) => {
      const { write, ...rest } = o as { write?: boolean };
      await run.sim(scenario, { ...flags(rest), 'no-write': write === false });
    });
  return program;
}

/** Runs the command line `argv` (without node and the script). */
export async function main(run: Commands, argv: string[]): Promise<void> {
  const program = buildProgram(run);
  if (argv.length === 0) {
    program.outputHelp();
    return;
  }
  await program.parseAsync(argv, { from: 'user' });
}

/** The command (`pallas agent`) that argv names, for messages. */
function commandOf(argv: string[], prog: string): string {
  const [c, sub] = argv;
  if (!c || c.startsWith('-')) return prog;
  return c === 'inventory' && sub && !sub.startsWith('-') ? `${prog} ${c} ${sub}` : `${prog} ${c}`;
}

/**
 * Reports a failure and sets the exit code: usage errors with a hint (exit 2), config errors
 * (exit 2), failures while running (exit 1, and a stack with PALLAS_DEBUG=1 when it was a bug).
 * Under --json, one JSON line { error: { code, message } } on stderr instead of text.
 */
export function exitFor(e: unknown, argv: string[], prog = 'pallas'): void {
  const who = commandOf(argv, prog);
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
      process.exitCode = 0;
      return;
    }
    // commander's text, one line: "error: unknown option '--bogus'\n(Did you mean --bind?)"
    const text = e.message
      .replace(/^error: /, '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join(' ')
      .replace(/\(Did you mean (.*)\)/, '(did you mean $1)');
    const help = e.code === 'commander.unknownCommand' ? who.slice(0, who.lastIndexOf(' ')) || prog : who;
    report(argv, who, new PallasError('USAGE', text), `see ${help} --help`);
    process.exitCode = 2;
    return;
  }
  const err = toPallasError(e);
  const hint =
    err.code === 'USAGE'
      ? `see ${who} --help`
      : err.code === 'INTERNAL'
        ? 'this is a bug: please report it with the command you ran'
        : undefined;
  report(argv, who, err, hint);
  if (err.code === 'INTERNAL' && process.env.PALLAS_DEBUG)
    process.stderr.write(`${(err.cause as Error | undefined)?.stack ?? err.stack}\n`);
  process.exitCode = err.code === 'USAGE' || err.code === 'BAD_CONFIG' || err.code === 'BAD_POLICY' ? 2 : 1;
}

function report(argv: string[], who: string, err: PallasError, hint: string | undefined): void {
  const message = err.message.replace(/\s*\n\s*/g, ' ');
  if (argv.includes('--json')) {
    process.stderr.write(`${JSON.stringify({ error: { code: err.code, message, ...(hint ? { hint } : {}) } })}\n`);
  } else {
    process.stderr.write(`${who}: ${err.code}: ${message}${hint ? ` (${hint})` : ''}\n`);
  }
}

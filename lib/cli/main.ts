#!/usr/bin/env node
// The `pallas` command line. Each subcommand validates its flags, runs, and exits non-zero with a
// one-line message (the PallasError code and what to do) on failure.
import { parseArgs } from 'node:util';

import { doctor, formatDoctor } from '../doctor.js';
import { toPallasError } from '../errors.js';
import { EchoServer } from '../io/echo.js';
import { DEFAULT_EAL_ARGS, type TransportConfig } from '../io/transport.js';
import { VERSION } from '../version.js';
import { DEFAULT_UDP_PORT } from '../wire/gen.js';

const HELP = `pallas ${VERSION}: rack-scale µs-level CPU scheduling through in-network workload shaping

Usage: pallas <command> [options]

Commands:
  doctor [--json]        what this machine offers (addon, DPDK, RocksDB, hugepages, cores, TSC)
                         and what each missing piece disables
  echo [options]         answer every valid Pallas request with a reply (transport test server);
                         runs until SIGINT/SIGTERM, then prints its counters
      --transport udp|dpdk   (default udp)
      --bind IP --port N     udp: address to bind (default 127.0.0.1:${DEFAULT_UDP_PORT})
      --device SPEC          dpdk: a vdev ("net_af_xdp0,iface=veth0") or a probed device name
      --ip IP --port N       dpdk: our address and UDP port
      --eal "ARGS"           dpdk: EAL arguments (default "${DEFAULT_EAL_ARGS.join(' ')}")
      --server-id N          id written into replies (default 0)
      --json                 print counters as JSON (and the ready line as JSON)

Options:
  --version              print the version
  --help                 print this help

Docs: README.md and docs/ in the package.`;

function fail(e: unknown): never {
  const err = toPallasError(e);
  process.stderr.write(`pallas: ${err.code}: ${err.message}\n`);
  process.exit(1);
}

async function runEcho(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      transport: { type: 'string', default: 'udp' }, bind: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: String(DEFAULT_UDP_PORT) }, device: { type: 'string' }, ip: { type: 'string' },
      eal: { type: 'string' }, 'server-id': { type: 'string', default: '0' }, json: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  let transport: TransportConfig;
  if (values.transport === 'dpdk') {
    transport = { kind: 'dpdk', device: values.device ?? '', ip: values.ip ?? '', udpPort: port,
      ...(values.eal ? { eal: values.eal.split(/\s+/).filter(Boolean) } : {}) };
  } else if (values.transport === 'udp') {
    transport = { kind: 'udp', bindIp: values.bind, port };
  } else {
    throw toPallasError(Object.assign(new Error(`--transport must be udp or dpdk, not '${values.transport}'`), { code: 'BAD_CONFIG' }));
  }
  const echo = new EchoServer({ transport, serverId: Number(values['server-id']) }).start();
  const local = echo.local();
  process.stdout.write(values.json ? `${JSON.stringify({ ready: true, ...local })}\n` : `pallas echo: listening on ${local.ip}:${local.port} (${values.transport}, mac ${local.mac})\n`);
  // Signal listeners do not keep Node's event loop alive; this timer does, until a signal comes.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(keepAlive);
  echo.stop();
  const c = echo.counters();
  process.stdout.write(values.json ? `${JSON.stringify({ counters: c })}\n` : `${Object.entries(c).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (cmd === 'doctor') {
    const { values } = parseArgs({ args: rest, strict: true, options: { json: { type: 'boolean', default: false } } });
    const r = doctor(VERSION);
    process.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatDoctor(r)}\n`);
    return;
  }
  if (cmd === 'echo') return runEcho(rest);
  process.stderr.write(`pallas: unknown command '${cmd}' (see pallas --help)\n`);
  process.exit(2);
}

main(process.argv.slice(2)).catch(fail);

// The paper's workloads (the paper's Table 2) as the live benchmarks run them: request
// types with their shares and the work each asks for, the handlers the servers need, and phases
// for the workload shifts. Spin types carry their service time in the request; RocksDB types run
// real GET(10) and SCAN(5000) calls, whose time on this machine is measured before a run.
import type { ClientTypeSpec } from '../../lib/client/client.js';
import type { ServerConfig } from '../../lib/runtime/config.js';

export interface LiveWorkload {
  name: string;
  about: string;
  types: (ClientTypeSpec & { type: string })[];
  /** Each phase takes this fraction of a point's duration, with these shares (in `types` order). */
  phases?: { fraction: number; shares: number[] }[];
  handlers: ServerConfig['handlers'];
  kv?: boolean;
}

const spin = (type: string, meanUs: number, share: number, dist: 'fixed' | 'exp' = 'fixed') => ({ type, share, service: { dist, meanUs } });
const rocks = (get: number, scan: number) => [
  { type: 'get', share: get, count: 10 },
  { type: 'scan', share: scan, count: 5000 },
];
const PORT = [0.5, 0.5];
const NORMAL = [0.9, 0.1];

export const WORKLOADS: Record<string, LiveWorkload> = {
  rocksdb: {
    name: 'rocksdb',
    about: 'RocksDB GET(10) 90 %, SCAN(5000) 10 %',
    types: rocks(0.9, 0.1),
    handlers: { get: 'rocksdb', scan: 'rocksdb' },
    kv: true,
  },
  'rocksdb-port': {
    name: 'rocksdb-port',
    about: 'RocksDB GET(10) 50 %, SCAN(5000) 50 %',
    types: rocks(0.5, 0.5),
    handlers: { get: 'rocksdb', scan: 'rocksdb' },
    kv: true,
  },
  bimodal: {
    name: 'bimodal',
    about: 'short 10 µs 90 %, long 100 µs 10 %',
    types: [spin('short', 10, 0.9), spin('long', 100, 0.1)],
    handlers: { short: 'spin', long: 'spin' },
  },
  'bimodal-port': {
    name: 'bimodal-port',
    about: 'short 10 µs 50 %, long 100 µs 50 %',
    types: [spin('short', 10, 0.5), spin('long', 100, 0.5)],
    handlers: { short: 'spin', long: 'spin' },
  },
  trimodal: {
    name: 'trimodal',
    about: 'short 5 µs, medium 50 µs, long 500 µs, a third each',
    types: [spin('short', 5, 1), spin('medium', 50, 1), spin('long', 500, 1)],
    handlers: { short: 'spin', medium: 'spin', long: 'spin' },
  },
  tpcc: {
    name: 'tpcc',
    about: 'the TPC-C profile: Payment 5 µs 43 %, OrderStatus 6 µs 4 %, NewOrder 16 µs 45 %, Delivery 62 µs 4 %, StockLevel 74 µs 4 %',
    types: [
      spin('payment', 5, 0.43),
      spin('order_status', 6, 0.04),
      spin('new_order', 16, 0.45),
      spin('delivery', 62, 0.04),
      spin('stock_level', 74, 0.04),
    ],
    handlers: { payment: 'tpcc', order_status: 'tpcc', new_order: 'tpcc', delivery: 'tpcc', stock_level: 'tpcc' },
  },
  exp: { name: 'exp', about: 'exponential service, mean 25 µs', types: [spin('exp', 25, 1, 'exp')], handlers: { exp: 'spin' } },
  bursty: {
    name: 'bursty',
    about: 'short 10 µs 90 % with gamma arrivals (cv 5), long 90 µs 10 % Poisson',
    types: [{ ...spin('short', 10, 0.9), arrivals: { process: 'gamma', cv: 5 } }, spin('long', 90, 0.1)],
    handlers: { short: 'spin', long: 'spin' },
  },
  'shift-bimodal': {
    name: 'shift-bimodal',
    about: 'port bimodal for the first half of each point, then normal bimodal',
    types: [spin('short', 10, 0.5), spin('long', 100, 0.5)],
    phases: [
      { fraction: 0.5, shares: PORT },
      { fraction: 0.5, shares: NORMAL },
    ],
    handlers: { short: 'spin', long: 'spin' },
  },
  'shift-rocksdb': {
    name: 'shift-rocksdb',
    about: 'port RocksDB for the first half of each point, then normal RocksDB',
    types: rocks(0.5, 0.5),
    phases: [
      { fraction: 0.5, shares: PORT },
      { fraction: 0.5, shares: NORMAL },
    ],
    handlers: { get: 'rocksdb', scan: 'rocksdb' },
    kv: true,
  },
};

// The server runtime's public API.
export { Server } from './server.js';
export {
  normalisePolicy,
  normaliseServer,
  normaliseUpdate,
  loadServerConfig,
  typeId,
  typeName,
  TPCC_US,
  DEFAULT_KV_PATH,
} from './config.js';
export type { ServerConfig, PolicySpec, PolicyUpdate, HandlerSpec, KvConfig } from './config.js';
export { loadKv, kvBench, kvValue, decodeKvReply, fnv1a } from './kv.js';
export type { RuntimeStats, TypeStats, WorkerStats, Quantiles, ReservationView } from './stats.js';

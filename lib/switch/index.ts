export type { PipelineRegisters, SwitchDriver } from './driver.js';
export {
  SoftSwitch,
  DEFAULT_SWITCH_PORT,
  SWITCH_POLICIES,
  parseAddr,
  type SoftSwitchConfig,
  type SwitchStats,
  type SwitchPolicy,
  type ServerAddr,
} from './soft.js';
export { diffTables, normaliseTables, singleGroupTables, type TableOp } from './tables.js';
export { TofinoSwitch, normaliseTofinoConfig, type TofinoConfig } from './tofino.js';
export { p4Entries, diffP4, type P4Entry, type P4Update, type SwitchSetup } from './p4-entries.js';

export type { PipelineRegisters, SwitchDriver } from './driver.js';
export { SoftSwitch, DEFAULT_SWITCH_PORT, SWITCH_POLICIES, parseAddr, type SoftSwitchConfig, type SwitchStats, type SwitchPolicy, type ServerAddr } from './soft.js';
export { diffTables, normaliseTables, singleGroupTables, type TableOp } from './tables.js';

// SwitchDriver: how the control plane talks to a ToR switch, whichever it is. The software switch
// (soft.ts) implements it in this process; the Tofino driver (tofino.ts, over BFRuntime) implements
// the same calls against the P4 program's tables and registers (docs/switch-contract.md: same names).
import type { MonitorRead } from './contract.js';
import type { SwitchTables } from './contract.js';
import type { TableOp } from './tables.js';

/** Registers of docs/switch-contract.md besides the monitor's, per group index. */
export interface PipelineRegisters {
  seq: number;
  wrrCounter: number[];
  cloneCounter: number[];
  /** The τ window (low 32 bits of now >> tauShift) each group's count belongs to; 0 before the group's first request. */
  burstWindow: number[];
  burstCount: number[];
}

export interface SwitchDriver {
  /** 'soft' or 'tofino'. */
  readonly kind: string;
  /** The switch policy it runs (pallas, or a baseline's: po2, rr, …). */
  readonly policy: string;
  /** Server slots (indices 0 … capacity − 1). */
  readonly capacity: number;
  /**
   * Installs tables: the entries that differ from those in force are added, modified or deleted,
   * and returned. BAD_POLICY (nothing changed) for tables the switch cannot take.
   */
  writeTables(tables: SwitchTables): Promise<TableOp[]>;
  /** The tables in force (as last written). */
  tables(): SwitchTables | null;
  /** Wires server `index` to an address, or unwires it (null). */
  setServer(index: number, addr: { ip: string; port: number; mac?: string } | null): Promise<void>;
  /** The monitor registers: per wire type, cumulative u32 counters (replies, execution time units, drop notices). */
  readMonitor(): Promise<MonitorRead>;
  /** The pipeline's other registers (Pallas switch only; null for a baseline's). */
  readRegisters(): Promise<PipelineRegisters | null>;
  /** Switch counters by name (docs/switch-contract.md and the driver's own). */
  counters(): Promise<Record<string, number>>;
}

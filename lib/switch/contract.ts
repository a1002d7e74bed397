// The switch contract's data as TypeScript sees it (docs/switch-contract.md): the tables the
// control plane writes and the monitor registers it reads. They belong to the switch, whichever it
// is (software, Tofino); the control plane (lib/control) uses them, so the arrow runs downward.

export type Balance = 'wrr' | 'po2';

/** The paper's rules a Tofino cannot run as written: simulator-only ablations (docs/switch-contract.md). */
export interface Ablation {
  tauNs?: number;
  argminTarget?: boolean;
  sharedCloneCounter?: boolean;
}

export interface SwitchTables {
  typeToGroup: Record<string, number>;
  defaultGroup: number;
  tauShift: number; // burst window τ = 2^tauShift ns
  clone: boolean;
  groups: { cThres: number; cloneTarget: number | null; balance: Balance; wrr: { server: number; weight: number }[] }[];
  ablation?: Ablation;
}

/**
 * The monitor registers as the switch keeps them: per wire type, cumulative 32-bit counters that
 * wrap — fresh requests, forwarded replies, their execution time in units of 2^MON_TIME_SHIFT ns,
 * and drop notices of uncloned requests.
 */
export interface MonitorRead {
  requests: number[];
  replies: number[];
  timeUnits: number[];
  notices: number[];
}

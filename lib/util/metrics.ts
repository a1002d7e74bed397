// Prometheus text exposition format (version 0.0.4): what /metrics on the control plane and on
// each agent serves.
export interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** Counters and gauges. */
  samples: { labels: Record<string, string>; value: number }[];
  /** Histograms: cumulative bucket counts at `le` (the +Inf bucket is `count`), in the metric's unit. */
  histograms?: { labels: Record<string, string>; le: readonly number[]; cumulative: readonly number[]; sum: number; count: number }[];
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function metricsText(ms: Metric[]): string {
  const out: string[] = [];
  for (const m of ms) {
    out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    const labelText = (labels: Record<string, string>) =>
      Object.entries(labels)
        .map(([k, v]) => `${k}="${esc(v)}"`)
        .join(',');
    const num = (v: number) => (Number.isFinite(v) ? v : 0);
    for (const s of m.samples) {
      const l = labelText(s.labels);
      out.push(`${m.name}${l ? `{${l}}` : ''} ${num(s.value)}`);
    }
    for (const h of m.histograms ?? []) {
      const l = labelText(h.labels);
      const sep = l ? ',' : '';
      h.le.forEach((b, i) => out.push(`${m.name}_bucket{${l}${sep}le="${b}"} ${num(h.cumulative[i]!)}`));
      out.push(
        `${m.name}_bucket{${l}${sep}le="+Inf"} ${num(h.count)}`,
        `${m.name}_sum${l ? `{${l}}` : ''} ${num(h.sum)}`,
        `${m.name}_count${l ? `{${l}}` : ''} ${num(h.count)}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * pallas_build_info{version, node, dpdk, rocksdb, role} 1: which build a scrape came from (the
 * Prometheus convention for build facts; a feature the addon was built without is "none").
 */
export function buildInfoMetric(
  role: string,
  version: string,
  b: { features: { dpdk: boolean; rocksdb: boolean }; dpdkVersion: string; rocksdbVersion: string },
): Metric {
  const labels = {
    version,
    node: process.versions.node,
    dpdk: b.features.dpdk ? b.dpdkVersion : 'none',
    rocksdb: b.features.rocksdb ? b.rocksdbVersion : 'none',
    role,
  };
  return {
    name: 'pallas_build_info',
    help: 'Build facts of this Pallas process (always 1)',
    type: 'gauge',
    samples: [{ labels, value: 1 }],
  };
}

/**
 * The switch's counters as Prometheus series: n_<event> → pallas_switch_<event>_total, busy_ns →
 * pallas_switch_busy_seconds_total, any other cell a gauge pallas_switch_<name>.
 */
export function switchMetrics(counters: Record<string, number> | null): Metric[] {
  return Object.entries(counters ?? {}).map(([k, v]): Metric => {
    if (k === 'busy_ns')
      return {
        name: 'pallas_switch_busy_seconds_total',
        help: 'Time the switch thread spent on packets',
        type: 'counter',
        samples: [{ labels: {}, value: v / 1e9 }],
      };
    if (k.startsWith('n_'))
      return {
        name: `pallas_switch_${k.slice(2)}_total`,
        help: `Switch counter ${k} (docs/switch-contract.md)`,
        type: 'counter',
        samples: [{ labels: {}, value: v }],
      };
    return { name: `pallas_switch_${k}`, help: `Switch gauge ${k}`, type: 'gauge', samples: [{ labels: {}, value: v }] };
  });
}

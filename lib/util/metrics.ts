// Prometheus text exposition format (version 0.0.4): what /metrics on the control plane and on
// each agent serves.
export interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: { labels: Record<string, string>; value: number }[];
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function metricsText(ms: Metric[]): string {
  const out: string[] = [];
  for (const m of ms) {
    out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    for (const s of m.samples) {
      const l = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${esc(v)}"`)
        .join(',');
      out.push(`${m.name}${l ? `{${l}}` : ''} ${Number.isFinite(s.value) ? s.value : 0}`);
    }
  }
  return `${out.join('\n')}\n`;
}

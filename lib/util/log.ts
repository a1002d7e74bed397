// Structured logs: one JSON object per line on stderr ({ts, level, component, msg, ...fields}),
// what log collectors parse without a grammar. PALLAS_LOG sets the lowest level written (debug,
// info, warn, error; default info); PALLAS_LOG=off silences everything.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level | 'off', number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export type LogSink = (line: string) => void;

export function logger(component: string, sink: LogSink = (l) => process.stderr.write(`${l}\n`)): Logger {
  const env = (process.env.PALLAS_LOG ?? 'info').toLowerCase();
  const min = RANK[(env in RANK ? env : 'info') as Level | 'off'];
  const at =
    (level: Level) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (RANK[level] < min) return;
      sink(JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...fields }));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (c) => logger(`${component}.${c}`, sink) };
}

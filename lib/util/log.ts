// Structured logs: one JSON object per line on stderr ({ts, level, component, msg, pid, host,
// instance?, ...fields}), what log collectors parse without a grammar; pid, host and the instance
// (an agent's name) say which of a rack's many processes wrote a line. PALLAS_LOG sets the lowest level written (debug,
// info, warn, error; default info); PALLAS_LOG=off silences everything.
import { hostname } from 'node:os';

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

const HOST = hostname();

export function logger(component: string, sink: LogSink = (l) => process.stderr.write(`${l}\n`), instance?: string): Logger {
  const env = (process.env.PALLAS_LOG ?? 'info').toLowerCase();
  const min = RANK[(env in RANK ? env : 'info') as Level | 'off'];
  const at =
    (level: Level) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (RANK[level] < min) return;
      sink(
        JSON.stringify({
          ts: new Date().toISOString(),
          level,
          component,
          msg,
          pid: process.pid,
          host: HOST,
          ...(instance ? { instance } : {}),
          ...fields,
        }),
      );
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (c) => logger(`${component}.${c}`, sink, instance),
  };
}

// Small validation helpers behind every config schema: one wording per kind of error, always
// naming the path of the bad field. Validate in TypeScript; native code receives normalised
// objects and trusts them.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';

import { parse as parseYaml, YAMLError } from 'yaml';

import { PallasError } from './errors.js';

export type Obj = Record<string, unknown>;

export function bad(path: string, problem: string): never {
  throw new PallasError('BAD_CONFIG', `${path}: ${problem}`);
}

export function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, 'must be an object');
  return v as Obj;
}

/** Rejects keys the schema does not know (a typo should not silently become a default). */
export function only(o: Obj, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) bad(`${path}.${k}`, `unknown field (expected one of: ${keys.join(', ')})`);
}

export function str(o: Obj, key: string, path: string, def?: string): string {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'string' || v === '') bad(`${path}.${key}`, 'must be a non-empty string');
  return v;
}

export function int(o: Obj, key: string, path: string, min: number, max: number, def?: number): number {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(`${path}.${key}`, `must be an integer in [${min}, ${max}]`);
  return v;
}

export function oneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[], def?: T): T {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'string' || !values.includes(v as T)) bad(`${path}.${key}`, `must be one of: ${values.join(', ')}`);
  return v as T;
}

export function strList(o: Obj, key: string, path: string, def: string[]): string[] {
  const v = o[key];
  if (v === undefined) return def;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bad(`${path}.${key}`, 'must be a list of strings');
  return v as string[];
}

export const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
export const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export function ipv4(o: Obj, key: string, path: string, def?: string): string {
  const v = str(o, key, path, def);
  if (!IPV4.test(v)) bad(`${path}.${key}`, `'${v}' is not an IPv4 address`);
  return v;
}

export function mac(o: Obj, key: string, path: string, def?: string): string {
  const v = o[key] === undefined && def !== undefined ? def : str(o, key, path);
  if (v !== '' && !MAC.test(v)) bad(`${path}.${key}`, `'${v}' is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  return v;
}

export function num(o: Obj, key: string, path: string, min: number, max: number, def?: number): number {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) bad(`${path}.${key}`, `must be a number in [${min}, ${max}]`);
  return v;
}

export function bool(o: Obj, key: string, path: string, def?: boolean): boolean {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'boolean') bad(`${path}.${key}`, 'must be true or false');
  return v;
}

export function list(o: Obj, key: string, path: string, minLen = 1): unknown[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length < minLen) bad(`${path}.${key}`, minLen > 0 ? `must be a list of at least ${minLen}` : 'must be a list');
  return v;
}

/** 1-based line and column of a character offset in `text`. */
function lineCol(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const line = before.split('\n').length;
  return `${line}:${before.length - before.lastIndexOf('\n')}`;
}

/**
 * Reads a config file (YAML, or JSON by its extension). Every failure is one BAD_CONFIG line that
 * starts with the file, and with `line:col` for a syntax error. A document must be a mapping: an
 * empty or comment-only file is refused rather than taken as "all defaults".
 */
export function readConfigFile(file: string, what: string): Obj {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PallasError(
      'BAD_CONFIG',
      `${file}: cannot read the ${what} config (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (e as Error).message})`,
    );
  }
  const json = extname(file) === '.json';
  let doc: unknown;
  try {
    doc = json ? JSON.parse(text) : parseYaml(text, { prettyErrors: false });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!;
    let where = '';
    if (e instanceof YAMLError) where = `:${lineCol(text, e.pos[0])}`;
    else if (json) {
      const pos = /position (\d+)/.exec(msg);
      if (pos) where = `:${lineCol(text, Number(pos[1]))}`;
    }
    throw new PallasError(
      'BAD_CONFIG',
      `${file}${where}: not valid ${json ? 'JSON' : 'YAML'}: ${msg.replace(/ at line \d+, column \d+:?$/, '').replace(/ in JSON at position \d+.*$/, '')}`,
    );
  }
  if (doc === null || doc === undefined) {
    throw new PallasError(
      'BAD_CONFIG',
      `${file}: empty; a ${what} config is a mapping of its settings (give at least one, or leave out --config for the defaults)`,
    );
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new PallasError(
      'BAD_CONFIG',
      `${file}: a ${what} config is a mapping of its settings, not ${Array.isArray(doc) ? 'a list' : `a ${typeof doc}`}`,
    );
  }
  return doc as Obj;
}

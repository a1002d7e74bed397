// Config schemas on zod: each file format (scenario, inventory) is declared once, as a zod schema
// that validates a parsed document, fills its defaults, types the result (z.output) and gives the
// JSON Schema editors read (`pallas schema`, schemas/*.json). The builders below carry the wording
// of lib/config.ts's helpers, so that a schema's errors read as every other config error: one
// line, the path of the bad field, what it must be.
import { z } from 'zod';

import { bad } from './config.js';

export { z };

/** An integer in [min, max]. */
export function zInt(min: number, max: number) {
  const error = `must be an integer in [${min}, ${max}]`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

/** A finite number in [min, max]. */
export function zNum(min: number, max: number) {
  const error = `must be a number in [${min}, ${max}]`;
  return z.number({ error }).min(min, { error }).max(max, { error });
}

/** One of `values`. */
export function zEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of: ${values.join(', ')}` });
}

export function zStr() {
  const error = 'must be a non-empty string';
  return z.string({ error }).min(1, { error });
}

export function zBool() {
  return z.boolean({ error: 'must be true or false' });
}

/** A list of at least `minLen` items. */
export function zList<T extends z.ZodType>(item: T, minLen = 1) {
  const error = minLen > 0 ? `must be a list of at least ${minLen}` : 'must be a list';
  return z.array(item, { error }).min(minLen, { error });
}

/** An object with exactly these fields: an unknown one is a typo, never silently a default. */
export function zObj<T extends z.ZodRawShape>(shape: T) {
  const keys = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown field (expected one of: ${keys})` : 'must be an object'),
  });
}

function pathOf(root: string, path: readonly PropertyKey[]): string {
  let s = root;
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return s;
}

type Issue = z.core.$ZodIssue;

/** The issue to report: an unknown field first (a typo explains the rest), else the first. */
function first(issues: readonly Issue[]): Issue {
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  const i = unknown ?? issues[0]!;
  if (i.code !== 'invalid_union') return i;
  // A union (a name or an object): report against the branch that took the value's kind (its issues
  // are inside the value), not one that refused the value whole.
  const branches = i.errors.filter((b) => b.length > 0);
  const wholesale = (x: Issue) => x.path.length === 0 && (x.code === 'invalid_type' || x.code === 'invalid_value');
  const sameKind = branches.find((b) => !b.some(wholesale)) ?? branches[0];
  if (!sameKind) return i;
  const inner = first(sameKind);
  return { ...inner, path: [...i.path, ...inner.path] } as Issue;
}

/**
 * Validates `doc` against `schema` and returns its output (defaults filled), or throws one
 * BAD_CONFIG error: `<root><path>: <problem>`. A function for `root` words the place itself
 * from the field's path (e.g. `host s1: pallas_nic.device`).
 */
export function parseWith<S extends z.ZodType>(schema: S, doc: unknown, root: string | ((path: string) => string)): z.output<S> {
  const r = schema.safeParse(doc);
  if (r.success) return r.data;
  const i = first(r.error.issues);
  const path = i.code === 'unrecognized_keys' ? [...i.path, i.keys[0]!] : i.path;
  return bad(typeof root === 'string' ? pathOf(root, path) : root(pathOf('', path).replace(/^\./, '')), i.message);
}

/** The JSON Schema (draft 2020-12) of the documents `schema` accepts, for editors. */
export function jsonSchemaOf(schema: z.ZodType, meta: { title: string; description: string }): object {
  // A sub-schema used in several places (an inventory's host variables) is written once, under $defs.
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', reused: 'ref' }) as Record<string, unknown>;
  const { $schema, ...rest } = js;
  return { $schema, title: meta.title, description: meta.description, ...rest };
}

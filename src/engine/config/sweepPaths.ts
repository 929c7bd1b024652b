// The dotted paths a sweep may set ("strategy.lambda", "training.learningRate", "tasks.0.train"),
// read off the experiment schema: which exist, and the near-miss of one that does not. Kept apart
// from sweep.ts so the schema generator (schemaSections.ts) can list them without importing the loader.
import type { JsonSchema } from './schema';
import { closestName } from './wording';

/** Fields a sweep may not set: the runs share the name (labels come from the params), and seeds/sweep are the sweep itself. */
export const UNSWEEPABLE: Readonly<Record<string, string>> = {
  name: 'the runs of a sweep share the experiment\'s name (their labels come from the swept values)',
  $schema: '$schema is for editors and is ignored by the runner',
  seeds: '"seeds" is the sweep over "seed": sweep "seed" instead',
  sweep: 'a sweep cannot sweep itself',
};

/** A dotted path's segments: "tasks.0.train" -> ["tasks", 0, "train"] (a segment of digits is an array index). */
export function sweepPathSegments(path: string): (string | number)[] {
  return path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function follow(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let s = schema;
  for (let hops = 0; typeof s.$ref === 'string' && hops < 10; hops++) {
    let node: unknown = root;
    for (const part of s.$ref.replace(/^#\//, '').split('/')) node = (node as Record<string, unknown> | undefined)?.[part];
    if (!node || typeof node !== 'object') break;
    const { $ref: _ref, ...siblings } = s;
    s = { ...(node as JsonSchema), ...siblings };
  }
  return s;
}

/** The alternatives a value may take (oneOf/anyOf branches, each strategy's or benchmark's own definition). */
function alternatives(schema: JsonSchema, root: JsonSchema): JsonSchema[] {
  const s = follow(schema, root);
  const out: JsonSchema[] = [s];
  for (const key of ['oneOf', 'anyOf']) for (const alt of (s[key] as JsonSchema[] | undefined) ?? []) out.push(...alternatives(alt, root));
  for (const rule of (s.allOf as JsonSchema[] | undefined) ?? []) if (rule.then) out.push(...alternatives(rule.then as JsonSchema, root));
  return out;
}

/** The properties an object may have, over all its alternatives (first description wins). */
function propertiesOf(schema: JsonSchema, root: JsonSchema): Map<string, JsonSchema[]> {
  const props = new Map<string, JsonSchema[]>();
  for (const alt of alternatives(schema, root)) {
    for (const [k, v] of Object.entries((alt.properties ?? {}) as Record<string, JsonSchema>)) props.set(k, [...(props.get(k) ?? []), v]);
  }
  return props;
}

function itemsOf(schema: JsonSchema, root: JsonSchema): JsonSchema[] {
  return alternatives(schema, root)
    .filter((a) => a.type === 'array' && a.items && typeof a.items === 'object' && !Array.isArray(a.items))
    .map((a) => a.items as JsonSchema);
}

export type SweepPathCheck = { ok: true; schemas: JsonSchema[] } | { ok: false; message: string };

/** Whether a dotted path names a field of the experiment; if not, why, with a did-you-mean. */
export function checkSweepPath(path: string, root: JsonSchema): SweepPathCheck {
  if (path === '') return { ok: false, message: 'an empty path: write a dotted path into the experiment, e.g. "strategy.lambda"' };
  const segments = path.split('.');
  if (segments.some((s) => s === '')) return { ok: false, message: `"${path}" has an empty segment: write fields separated by single dots, e.g. "training.learningRate"` };
  const first = segments[0];
  if (first in UNSWEEPABLE) return { ok: false, message: `"${path}" cannot be swept: ${UNSWEEPABLE[first]}` };
  let schemas: JsonSchema[] = [root];
  let done = '';
  for (const segment of segments) {
    const here = done || 'the experiment';
    const props = new Map<string, JsonSchema[]>();
    for (const s of schemas) for (const [k, v] of propertiesOf(s, root)) props.set(k, [...(props.get(k) ?? []), ...v]);
    const items = schemas.flatMap((s) => itemsOf(s, root));
    let next: JsonSchema[];
    if (/^\d+$/.test(segment)) {
      if (!items.length) return { ok: false, message: `"${path}": ${here} is not a list, so it has no item ${segment}` };
      next = items;
    } else if (props.has(segment)) {
      next = props.get(segment)!;
    } else {
      if (items.length) return { ok: false, message: `"${path}": ${here} is a list: name an item by its index, e.g. "${done}.0.${segment}"` };
      const known = [...props.keys()].filter((k) => !(done === '' && k in UNSWEEPABLE));
      if (!known.length) return { ok: false, message: `"${path}": ${here} has no fields` };
      const prefix = done ? `${done}.` : '';
      const suggestion = closestName(segment, known);
      const tail = segments.slice(segments.indexOf(segment) + 1).join('.');
      const meant = suggestion !== undefined ? ` — did you mean "${prefix}${suggestion}${tail ? `.${tail}` : ''}"?` : `; ${here === 'the experiment' ? 'fields' : `fields of ${here}`}: ${known.map((k) => `'${k}'`).join(', ')}`;
      return { ok: false, message: `unknown field "${path}"${meant}` };
    }
    schemas = next;
    done = done ? `${done}.${segment}` : segment;
  }
  return { ok: true, schemas };
}

/**
 * The paths an editor offers inside "sweep" (completion): every field of the experiment and of its
 * objects (strategy hyperparameters of every strategy), without list indexes; "tasks.0.train" style
 * paths are valid but not listed.
 */
export function sweepPathList(root: JsonSchema): { path: string; schema: JsonSchema }[] {
  const out = new Map<string, JsonSchema>();
  const walk = (schemas: JsonSchema[], prefix: string, depth: number) => {
    if (depth > 3) return;
    const props = new Map<string, JsonSchema[]>();
    for (const s of schemas) for (const [k, v] of propertiesOf(s, root)) props.set(k, [...(props.get(k) ?? []), ...v]);
    for (const [k, v] of props) {
      if (prefix === '' && k in UNSWEEPABLE) continue;
      const path = prefix ? `${prefix}.${k}` : k;
      if (!out.has(path)) out.set(path, follow(v[0], root));
      walk(v, path, depth + 1);
    }
  };
  walk([root], '', 0);
  return [...out].map(([path, schema]) => ({ path, schema }));
}

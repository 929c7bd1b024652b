// How values, allowed values and near-misses are put into words, the same way in every message
// (and in the schema's hover texts, which the generator writes with describeAllowed).
import type { JsonSchema } from './schema';

export type Json = unknown;

export function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function json(v: Json): string {
  return JSON.stringify(v);
}

export function quoteKey(k: string): string {
  return `'${k}'`;
}

/** "a" / "a or b" / "a, b or c". */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** What was found, for "..., got X". */
export function describeValue(v: Json, expectsString: boolean): string {
  if (typeof v === 'string') return expectsString ? json(v) : `the string ${json(v)}`;
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : `an array of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (isObject(v)) return 'an object';
  if (v === undefined) return 'nothing';
  return json(v);
}

function bounds(s: JsonSchema): string {
  const min = s.minimum as number | undefined;
  const max = s.maximum as number | undefined;
  const xmin = s.exclusiveMinimum as number | undefined;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (xmin !== undefined && max !== undefined) return ` > ${xmin} and ≤ ${max}`;
  if (xmin !== undefined) return ` > ${xmin}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

/** What a (leaf or array) schema allows, in words: "an integer from 3 to 101", "one of "adam", "sgd"". */
export function describeAllowed(s: JsonSchema): string {
  if (Array.isArray(s.enum)) {
    const values = s.enum.map(json);
    return values.length === 1 ? values[0] : `one of ${values.join(', ')}`;
  }
  if (s.const !== undefined) return json(s.const);
  switch (s.type) {
    case 'integer':
      return `an integer${bounds(s)}`;
    case 'number':
      return `a number${bounds(s)}`;
    case 'string':
      return (s.minLength as number | undefined) ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'an object';
    case 'array': {
      const items = isObject(s.items) ? (s.items as JsonSchema) : {};
      const noun = items.type === 'number' ? 'number' : items.type === 'integer' ? 'integer' : 'item';
      const many = (n: number): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
      const min = s.minItems as number | undefined;
      const max = s.maxItems as number | undefined;
      let out = 'an array';
      if (min !== undefined && min === max) out += ` of ${many(min)}`;
      else if (min !== undefined) out += ` of at least ${many(min)}`;
      else if (max !== undefined) out += ` of at most ${many(max)}`;
      else if (noun !== 'item') out += ` of ${noun}s`;
      return out;
    }
    default:
      return 'a valid value';
  }
}

function normalisedName(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The known name a typo most likely meant, if any is close. */
export function closestName(given: string, known: readonly string[]): string | undefined {
  const g = normalisedName(given);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    const n = normalisedName(k);
    let score: number;
    if (n === g) score = 0;
    else if (g.length >= 3 && (n.includes(g) || g.includes(n))) score = 1 + Math.abs(n.length - g.length) / 100;
    else {
      const d = editDistance(g, n);
      score = d <= (Math.max(g.length, n.length) >= 5 ? 2 : 1) ? 1 + d : Infinity;
    }
    if (score < bestScore) {
      bestScore = score;
      best = k;
    }
  }
  return bestScore < Infinity ? best : undefined;
}

/** ' — did you mean "x"?' for a value close to a known one, else ''. */
export function didYouMean(given: Json, known: readonly string[]): string {
  const suggestion = typeof given === 'string' ? closestName(given, known) : undefined;
  return suggestion !== undefined ? ` — did you mean ${json(suggestion)}?` : '';
}

// Seeds and sweeps in an experiment file: `"seeds": [0, 1, 2]` and `"sweep": {"strategy.lambda":
// [100, 1000], "seed": [0, 1]}` expand into runs (the Cartesian product, axes in file order, the
// last varying fastest; `seeds` is the axis "seed", last). A path is dotted, a segment of digits is
// a list index ("tasks.0.train"). Each value is checked by substituting it into the file's text and
// running the normal validation, so its errors are the field's own words, at the value's position.
import { applyEdits, modify } from 'jsonc-parser';
import type { ExperimentSpec } from '../../protocol/experiment';
import type { SweepAxis, SweepRunEntry, SweepValue } from '../../protocol/sweep';
import { formatCount } from '../../protocol/format';
import { EXPERIMENT_DEFAULTS } from './defaults';
import type { JsonSchema } from './schema';
import { MAX_SWEEP_RUNS } from './schemaSections';
import { atKey, atObject, atPropertyKey, atValue, childPointer, locate, type Context, type ExperimentDiagnostic, type Finding } from './source';
import { checkSweepPath, sweepPathSegments } from './sweepPaths';
import { isObject, json, type Json } from './wording';

export { MAX_SWEEP_RUNS } from './schemaSections';
export { sweepPathSegments } from './sweepPaths';

/** An experiment file as written, with its sweep fields (ExperimentSpec leaves them out: a run never has them). */
export type SweptExperimentSpec = ExperimentSpec & { seeds?: number[]; sweep?: Record<string, SweepValue[]> };

/** The runs an experiment file expands to (a plain experiment: one run, index 0, params {}). */
export interface SweepExpansion {
  axes: SweepAxis[];
  runs: { entry: Omit<SweepRunEntry, 'folder'>; spec: ExperimentSpec }[];
}

/** Whether the file asks for more than one run's worth of settings (`seeds` or `sweep`). */
export function isSweep(spec: ExperimentSpec): boolean {
  const s = spec as SweptExperimentSpec;
  return s.seeds !== undefined || s.sweep !== undefined;
}

/** The swept fields in file order; `seeds` is the axis "seed", last (runs of one setting are neighbours). */
export function sweepAxes(spec: ExperimentSpec): SweepAxis[] {
  const s = spec as SweptExperimentSpec;
  const axes: SweepAxis[] = Object.entries(s.sweep ?? {}).map(([path, values]) => ({ path, values: [...values] }));
  if (s.seeds !== undefined) axes.push({ path: 'seed', values: [...s.seeds] });
  return axes;
}

/** Canonical text of a value (object keys sorted): equal values, equal keys. */
function canonical(v: SweepValue): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Sets a dotted path in a spec (objects on the way are made; list items must exist). Throws a worded error. */
export function setSweepPath(target: Record<string, unknown>, path: string, value: SweepValue): void {
  const segments = sweepPathSegments(path);
  let node: unknown = target;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const last = i === segments.length - 1;
    const where = segments.slice(0, i).join('.') || 'the experiment';
    if (Array.isArray(node)) {
      if (typeof seg !== 'number') throw new Error(`${where} is a list: name an item by its index, e.g. "${where}.0"`);
      if (seg >= node.length) throw new Error(`${where} has ${node.length} item${node.length === 1 ? '' : 's'}, so "${path}" names none (indexes start at 0)`);
    } else if (!isObject(node as Json)) {
      throw new Error(`"${path}" cannot be set: ${where} is ${json(node)}, not an object`);
    }
    const container = node as Record<string | number, unknown>;
    if (last) {
      container[seg] = structuredClone(value);
      return;
    }
    if (container[seg] === undefined && !Array.isArray(node)) container[seg] = typeof segments[i + 1] === 'number' ? [] : {};
    node = container[seg];
  }
}

/** "strategy.lambda" -> "lambda"; "tasks.0.train" -> "train0"; "strategy" -> "strategy". */
function axisKey(path: string): string {
  const segments = path.split('.');
  const last = segments[segments.length - 1];
  if (/^\d+$/.test(last) && segments.length > 1) return `${segments[segments.length - 2]}${last}`;
  const index = [...segments].reverse().find((s) => /^\d+$/.test(s));
  return index !== undefined ? `${last}${index}` : last;
}

function valueText(v: SweepValue): string {
  if (Array.isArray(v)) return v.map(valueText).join('x');
  if (v && typeof v === 'object') return typeof v.name === 'string' ? v.name : '';
  return String(v);
}

function labelPart(s: string): string {
  return s.replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-+|-+$/g, '');
}

/** Each value's part of a run label; values that would read alike are told apart by their index. */
function axisLabels(axis: SweepAxis): string[] {
  const key = labelPart(axisKey(axis.path));
  const texts = axis.values.map((v) => labelPart(valueText(v)));
  const distinct = new Set(texts).size === texts.length && texts.every((t) => t !== '');
  return texts.map((t, k) => `${key}-${distinct ? t : `${t ? `${t}-` : ''}${k + 1}`}`);
}

/**
 * Label of a run from its swept values: "lambda-1000-seed-1" (at most 80 characters; the index in
 * its folder name keeps it unique); "run" for a plain experiment.
 */
export function sweepRunLabel(axes: readonly SweepAxis[], params: Record<string, SweepValue>): string {
  const parts = axes.map((axis) => {
    const k = axis.values.findIndex((v) => canonical(v) === canonical(params[axis.path] ?? null));
    return axisLabels(axis)[Math.max(0, k)];
  });
  return parts.join('-').slice(0, 80).replace(/-+$/, '').replace(/^[.-]+/, '') || 'run';
}

/**
 * Expands an experiment into its runs: the Cartesian product of the axes, axes in file order, the
 * last varying fastest. Each run's spec is a complete experiment without `seeds`/`sweep`, with the
 * experiment's name. Throws on an expansion the loader would refuse (empty or duplicate values,
 * `seeds` with `seed` or `sweep.seed`, more than MAX_SWEEP_RUNS runs, a path that cannot be set).
 */
export function expandExperiment(spec: ExperimentSpec): SweepExpansion {
  const s = spec as SweptExperimentSpec;
  if (s.seeds !== undefined && s.seed !== undefined) throw new Error(`the experiment has both 'seed' and 'seeds': keep one`);
  if (s.seeds !== undefined && s.sweep && 'seed' in s.sweep) throw new Error(`the experiment has both 'seeds' and sweep "seed": keep one`);
  const axes = sweepAxes(spec);
  let count = 1;
  for (const axis of axes) {
    if (!axis.values.length) throw new Error(`sweep "${axis.path}" has no values`);
    const seen = new Set<string>();
    for (const v of axis.values) {
      const key = canonical(v);
      if (seen.has(key)) throw new Error(`sweep "${axis.path}" lists ${json(v)} twice`);
      seen.add(key);
    }
    count *= axis.values.length;
  }
  if (count > MAX_SWEEP_RUNS) throw new Error(`the sweep expands to ${formatCount(count)} runs: at most ${formatCount(MAX_SWEEP_RUNS)}`);
  const { seeds: _seeds, sweep: _sweep, ...base } = s;
  const runs: SweepExpansion['runs'] = [];
  for (let index = 0; index < count; index++) {
    // Mixed radix, the last axis fastest.
    const choice: number[] = new Array<number>(axes.length);
    let rest = index;
    for (let a = axes.length - 1; a >= 0; a--) {
      choice[a] = rest % axes[a].values.length;
      rest = Math.floor(rest / axes[a].values.length);
    }
    const run = structuredClone(base) as Record<string, unknown>;
    const params: Record<string, SweepValue> = {};
    axes.forEach((axis, a) => {
      const value = axis.values[choice[a]];
      setSweepPath(run, axis.path, value);
      params[axis.path] = structuredClone(value);
    });
    const runSpec = run as ExperimentSpec;
    const seed = typeof runSpec.seed === 'number' ? runSpec.seed : EXPERIMENT_DEFAULTS.seed;
    runs.push({ entry: { index, params, seed }, spec: runSpec });
  }
  return { axes, runs };
}

// ---------------------------------------------------------------------------------------------
// Validation, with positions

/** Validates a whole experiment text without its sweep (the loader's checks); its error diagnostics. */
export type ValidateText = (text: string) => ExperimentDiagnostic[];

/** Values substituted one at a time at most; beyond this the rest are checked when the runs start. */
const MAX_VALUE_CHECKS = 400;
/** Combinations of two or more swept fields checked together at most. */
const MAX_COMBINATION_CHECKS = 100;

/** How a value is named in messages: 'sweep["strategy.lambda"][1]'. */
function valueName(path: string, k: number): string {
  return `sweep[${JSON.stringify(path)}][${k}]`;
}

/** The text with the value set at the path (as the runs will have it). */
function substituted(text: string, assignments: [string, SweepValue][]): string {
  let out = text;
  for (const [path, value] of assignments) {
    const edits = modify(out, sweepPathSegments(path), value, { formattingOptions: { insertSpaces: true, tabSize: 2 } });
    out = applyEdits(out, edits);
  }
  return out;
}

/**
 * The problems of `seeds` and `sweep`: both seed fields, unknown paths (did-you-mean), duplicate
 * values, too many runs, and each value's own errors once substituted into the experiment. `value`
 * is the parsed file; `restValid` says the rest of the file passed (values are checked only then:
 * otherwise every value would repeat the file's errors).
 */
export function sweepFindings(ctx: Context, value: Json, schema: JsonSchema, restValid: boolean, validate: ValidateText): Finding[] {
  if (!isObject(value) || (!('seeds' in value) && !('sweep' in value))) return [];
  const findings: Finding[] = [];
  if ('seeds' in value && 'seed' in value) {
    findings.push(atPropertyKey(ctx, '/seeds', 'error', `the experiment has both 'seed' and 'seeds': keep one ('seeds' runs the experiment once per seed)`));
  }
  const sweep = value.sweep;
  const sweepNode = locate(ctx.root, '/sweep');
  if (isObject(sweep) && 'seed' in sweep && 'seeds' in value) {
    findings.push(atPropertyKey(ctx, childPointer('/sweep', 'seed'), 'error', `sweep "seed" and 'seeds' both give the seeds: keep one ('seeds' is short for sweep "seed")`));
  }
  const axes: { path: string; values: Json[] }[] = [];
  if (isObject(sweep)) {
    for (const property of sweepNode.value?.children ?? []) {
      const path = property.children?.[0]?.value as string;
      const pointer = childPointer('/sweep', path);
      const check = checkSweepPath(path, schema);
      if (!check.ok) {
        findings.push(atKey(property, pointer, 'error', `sweep: ${check.message}`));
        continue;
      }
      const values = sweep[path];
      if (!Array.isArray(values) || values.length === 0) continue; // the schema says so
      try {
        setSweepPath(structuredClone(value) as Record<string, unknown>, path, values[0] as SweepValue);
      } catch (e) {
        findings.push(atKey(property, pointer, 'error', `sweep: ${(e as Error).message}`));
        continue;
      }
      values.forEach((v, k) => {
        const first = values.findIndex((w) => canonical(w as SweepValue) === canonical(v as SweepValue));
        if (first < k) findings.push(atValue(ctx, childPointer(pointer, k), 'error', `${valueName(path, k)}: ${json(v)} is already listed at [${first}]: give each value once`));
      });
      axes.push({ path, values });
    }
  }
  if (Array.isArray(value.seeds)) {
    const seeds = value.seeds;
    seeds.forEach((v, k) => {
      const first = seeds.indexOf(v);
      if (first < k) findings.push(atValue(ctx, `/seeds/${k}`, 'error', `seeds[${k}]: ${json(v)} is already listed at [${first}]: give each seed once`));
    });
    if (seeds.length) axes.push({ path: 'seed', values: seeds });
  }
  const count = axes.reduce((n, a) => n * a.values.length, 1);
  if (count > MAX_SWEEP_RUNS) {
    const product = axes.map((a) => a.values.length).join(' × ');
    findings.push(atObject(ctx, isObject(sweep) ? '/sweep' : '/seeds', 'error', `the sweep expands to ${formatCount(count)} runs (${product}): at most ${formatCount(MAX_SWEEP_RUNS)}; sweep fewer values`));
  }
  if (!restValid) return findings;

  // Each value in the experiment, alone (the seeds are checked by the schema).
  const swept = axes.filter((a) => isObject(sweep) && a.path in sweep);
  let checks = 0;
  for (const axis of swept) {
    for (let k = 0; k < axis.values.length && checks < MAX_VALUE_CHECKS; k++, checks++) {
      const pointer = childPointer(childPointer('/sweep', axis.path), k);
      for (const message of valueErrors(ctx, value, [[axis.path, axis.values[k] as SweepValue]], validate)) {
        findings.push(atValue(ctx, pointer, 'error', `${valueName(axis.path, k)}: ${message}`));
      }
    }
  }
  if (findings.some((f) => f.severity === 'error')) return findings;

  // Fields that are only wrong together (a hyperparameter of one of the swept strategies).
  const fields = swept.filter((a) => a.path !== 'seed');
  if (fields.length < 2) return findings;
  const combos = fields.reduce((n, a) => n * a.values.length, 1);
  for (let c = 0; c < Math.min(combos, MAX_COMBINATION_CHECKS) && findings.length < 3; c++) {
    let rest = c;
    const assignments: [string, SweepValue][] = [];
    for (let a = fields.length - 1; a >= 0; a--) {
      assignments.unshift([fields[a].path, fields[a].values[rest % fields[a].values.length] as SweepValue]);
      rest = Math.floor(rest / fields[a].values.length);
    }
    const errors = valueErrors(ctx, value, assignments, validate);
    if (errors.length) {
      const which = assignments.map(([p, v]) => `${p} = ${json(v)}`).join(', ');
      findings.push(atObject(ctx, '/sweep', 'error', `sweep: the runs with ${which} are invalid: ${errors.join('; ')}`));
    }
  }
  return findings;
}

/** The errors of the experiment with these values set (messages), or why they cannot be set. */
function valueErrors(ctx: Context, value: Record<string, Json>, assignments: [string, SweepValue][], validate: ValidateText): string[] {
  try {
    // The same checks on the object first: a list index that does not exist, a path through a non-object.
    const probe = structuredClone(value) as Record<string, unknown>;
    for (const [path, v] of assignments) setSweepPath(probe, path, v);
  } catch (e) {
    return [(e as Error).message];
  }
  const errors = validate(substituted(ctx.doc.text, assignments)).filter((d) => d.severity === 'error' && !d.pointer.startsWith('/sweep') && !d.pointer.startsWith('/seeds'));
  return [...new Set(errors.map((d) => d.message))];
}

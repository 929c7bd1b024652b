// Loads an experiment file (*.cl.json): JSON syntax, schema and semantic checks, every problem at
// once with its line/column, then the experiment with every default filled in. The jobs live
// beside this file: source.ts (positions, pointers), syntax.ts, schemaErrors.ts + unions.ts (schema
// errors in words), semantic.ts, defaults.ts, benchmarks.ts + normalise.ts, schema.ts (+ the
// generated schemaSections.ts).
import { readFile } from 'node:fs/promises';
import { getNodeValue, parseTree, type Node, type ParseError } from 'jsonc-parser';
import type { ExperimentSpec, NormalisedExperiment } from '../../protocol/experiment';
import { experimentValidator } from './schema';
export { expandExperiment, isSweep, sweepAxes, sweepRunLabel, MAX_SWEEP_RUNS, type SweepExpansion, type SweptExperimentSpec } from './sweep';
import { schemaFindings } from './schemaErrors';
import { resourceFindings, semanticFindings } from './semantic';
import { defaultResourceEnvironment, type ResourceEnvironment } from './resources';
import { SourceText, atValue, childPointer, underPointer, fieldName, locate, overlaps, rangeOf, type Context, type ExperimentDiagnostic, type Finding, type Range } from './source';
import { duplicateKeyFindings, nestingFinding, syntaxFindings } from './syntax';
import { normaliseExperiment } from './normalise';
import { clampNotes, knownTaskSize } from './clamps';
import { planPhases } from '../train/loop';
import { strategyDefinition } from '../strategies/registry';
import { experimentSchema } from './schema';
import { expandExperiment, isSweep, sweepFindings, type SweepExpansion } from './sweep';

export type { ExperimentDiagnostic } from './source';
export { EXPERIMENT_DEFAULTS, MODEL_PRESETS, BENCHMARK_DEFAULTS } from './defaults';
export { EXPERIMENT_FILE_SUFFIX, experimentNameFromFile, normaliseExperiment } from './normalise';
export { closestName } from './wording';
export type { ResourceEnvironment } from './resources';

export interface ParseOptions {
  /** The machine the run is checked against (memory); default this one (os.totalmem()). */
  resources?: ResourceEnvironment;
}

export interface ParsedExperiment {
  /** Null when any diagnostic is an error. */
  experiment: NormalisedExperiment | null;
  /** Sorted by position. */
  diagnostics: ExperimentDiagnostic[];
  /**
   * The runs of a file with `seeds` or `sweep` (absent for a plain experiment, and when any
   * diagnostic is an error); `experiment` is then the first run's.
   */
  sweep?: SweepExpansion;
}

/** Reads a file and parses it; an unreadable file gives one error diagnostic at 1:1. */
export async function loadExperimentFile(file: string): Promise<ParsedExperiment> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    return {
      experiment: null,
      diagnostics: [
        { file, line: 1, column: 1, endLine: 1, endColumn: 1, offset: 0, length: 0, severity: 'error', message: `cannot read the experiment file: ${reason}`, pointer: '', origin: 'syntax' },
      ],
    };
  }
  // An editor does not show the byte-order mark either, so positions match what the user sees.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return parseExperiment(text, file);
}

/** "file:line:column: error: message". */
export function formatDiagnostic(d: ExperimentDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}

function severityRank(d: ExperimentDiagnostic): number {
  return d.severity === 'error' ? 0 : 1;
}

/**
 * Parses and validates the text of an experiment file. Comments and trailing commas are errors:
 * the file is plain JSON (VS Code's "json" mode, which `*.json` files get, reports them too).
 */
export function parseExperiment(text: string, file: string, options: ParseOptions = {}): ParsedExperiment {
  return parse(text, file, options, true);
}

function parse(text: string, file: string, options: ParseOptions, withSweep: boolean): ParsedExperiment {
  const doc = new SourceText(text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text);
  const findings: Finding[] = [];

  // The parser and every check after it recurse: nesting no experiment has is refused before them
  // (not origin 'syntax': VS Code's JSON service does not report it, so the editor must).
  const tooDeep = nestingFinding(doc);
  if (tooDeep) return { experiment: null, diagnostics: [doc.diagnostic(file, { ...tooDeep, origin: 'schema' })] };

  const parseErrors: ParseError[] = [];
  const root = parseTree(doc.text, parseErrors, { allowTrailingComma: false, disallowComments: true });
  const syntax = syntaxFindings(doc, parseErrors).map((f): Finding => ({ ...f, origin: 'syntax' }));
  for (const f of syntax) findings.push(f);

  let experiment: NormalisedExperiment | null = null;
  let sweep: SweepExpansion | undefined;
  let uncounted = false;
  if (root) {
    const ctx: Context = { doc, root };
    const value: unknown = getNodeValue(root);
    const checks: Finding[] = duplicateKeyFindings(root).map((f): Finding => ({ ...f, origin: 'syntax' }));
    const validate = experimentValidator();
    const valid = validate(value);
    // Worded one by one, so only as many as can be listed (a file of 100,000 wrong items has 300,000).
    const schemaErrors = validate.errors ?? [];
    if (schemaErrors.length > MAX_SCHEMA_ERRORS) uncounted = true;
    // A number too large for a double parses as Infinity, which the schema would call null: say so instead.
    const huge = hugeNumberFindings(ctx);
    const hugeAt = new Set(huge.map((f) => f.pointer));
    for (const f of huge) checks.push(f);
    if (!valid) for (const f of schemaFindings(ctx, schemaErrors.slice(0, MAX_SCHEMA_ERRORS), '')) if (!hugeAt.has(f.pointer)) checks.push({ ...f, origin: 'schema' });
    for (const f of semanticFindings(ctx, value)) checks.push(f);
    if (withSweep) {
      // Each swept value is validated in the file's text with the value substituted (its errors in the field's own words).
      const ofSweep = (f: Finding) => underPointer(f.pointer, '/sweep') || underPointer(f.pointer, '/seeds');
      const restValid = !syntax.length && !checks.some((f) => f.severity === 'error' && !ofSweep(f));
      const validateVariant = (variant: string) => parse(variant, file, options, false).diagnostics.filter((d) => d.severity === 'error');
      for (const f of sweepFindings(ctx, value, experimentSchema, restValid, validateVariant)) checks.push({ ...f, origin: f.origin ?? 'semantic' });
    }
    if (valid && !syntax.length && !checks.some((f) => f.severity === 'error')) {
      const spec = value as unknown as ExperimentSpec;
      if (withSweep && isSweep(spec)) {
        sweep = expandExperiment(spec);
        experiment = normaliseExperiment(sweep.runs[0].spec, file);
      } else experiment = normaliseExperiment(spec, file);
      for (const f of clampFindings(ctx, experiment)) checks.push(f);
      const resources = resourceFindingsOf(ctx, experiment, options.resources ?? defaultResourceEnvironment());
      for (const f of resources) checks.push(f);
      if (resources.some((f) => f.severity === 'error')) {
        experiment = null;
        sweep = undefined;
      }
    }
    // Values around a syntax error are the parser's guesses: keep only findings away from them.
    const nearSyntaxError = overlapsAny(syntax.map((s) => s.range));
    for (const f of checks) if (!nearSyntaxError(f.subject)) findings.push(f);
  }

  const diagnostics = findings
    .map((f) => doc.diagnostic(file, f))
    .sort((a, b) => a.offset - b.offset || severityRank(a) - severityRank(b));
  const parsed: ParsedExperiment = { experiment, diagnostics: capped(diagnostics, file, doc, uncounted) };
  if (sweep && experiment) parsed.sweep = sweep;
  return parsed;
}

/** Every number literal beyond the range of a double (1e309 parses as Infinity). */
function hugeNumberFindings(ctx: Context): Finding[] {
  const findings: Finding[] = [];
  const stack: { node: Node; pointer: string }[] = [{ node: ctx.root, pointer: '' }];
  while (stack.length) {
    const { node, pointer } = stack.pop()!;
    const children = node.children ?? [];
    if (node.type === 'array') for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], pointer: `${pointer}/${i}` });
    if (node.type === 'object') {
      for (let i = children.length - 1; i >= 0; i--) {
        const [key, value] = children[i].children ?? [];
        if (value && typeof key?.value === 'string') stack.push({ node: value, pointer: childPointer(pointer, key.value) });
      }
    }
    if (node.type !== 'number' || Number.isFinite(node.value)) continue;
    const literal = ctx.doc.text.slice(node.offset, node.offset + node.length);
    const range = rangeOf(node);
    findings.push({ severity: 'error', message: `${fieldName(pointer)} is ${literal}, outside the range of numbers a file can hold (about ±1.8e308)`, pointer, range, subject: range, origin: 'schema' });
  }
  return findings;
}

/** Most diagnostics listed for one file: beyond this the Problems view and the terminal only drown. */
export const MAX_DIAGNOSTICS = 500;
/** Schema errors worded (each costs a walk of the tree); more than enough to fill MAX_DIAGNOSTICS. */
const MAX_SCHEMA_ERRORS = 4 * MAX_DIAGNOSTICS;

/** The first MAX_DIAGNOSTICS, then one error saying how many more there are (at the first one left out). */
function capped(diagnostics: ExperimentDiagnostic[], file: string, doc: SourceText, uncounted: boolean): ExperimentDiagnostic[] {
  if (diagnostics.length <= MAX_DIAGNOSTICS) return diagnostics;
  const next = diagnostics[MAX_DIAGNOSTICS];
  const rest = diagnostics.length - MAX_DIAGNOSTICS;
  const errors = diagnostics.slice(MAX_DIAGNOSTICS).filter((d) => d.severity === 'error').length;
  const range = { offset: next.offset, length: 0 };
  const count = uncounted ? 'more problems' : `${rest} more problems (${errors} of them errors)`;
  const message = `${count} from here on are not listed: fix the ones above first`;
  return [...diagnostics.slice(0, MAX_DIAGNOSTICS), doc.diagnostic(file, { severity: uncounted || errors > 0 ? 'error' : 'warning', message, pointer: next.pointer, range, subject: range, origin: next.origin })];
}

/**
 * Whether a value's range overlaps any of the syntax errors' ranges (sorted by offset, as
 * syntaxFindings gives them): a binary search, as a file can have many of both.
 */
function overlapsAny(errors: Range[]): (value: Range) => boolean {
  const ends = errors.map((e) => e.offset + Math.max(e.length, 1));
  let sorted = true;
  for (let i = 1; i < errors.length; i++) if (errors[i].offset < errors[i - 1].offset || ends[i] < ends[i - 1]) sorted = false;
  if (!sorted) return (value) => errors.some((e) => overlaps(value, e));
  return (value) => {
    // The first error ending after the value starts; it overlaps when it starts before the value ends.
    let lo = 0;
    let hi = errors.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid] > value.offset) hi = mid;
      else lo = mid + 1;
    }
    return lo < errors.length && overlaps(value, errors[lo]);
  };
}

function phasesOf(experiment: NormalisedExperiment): number[][] {
  return planPhases(strategyDefinition(experiment.strategy.name)?.phases ?? 'sequential', experiment.tasks.length);
}

/** Memory and run time the run will need, as far as the built-in datasets' sizes tell (resources.ts). */
function resourceFindingsOf(ctx: Context, experiment: NormalisedExperiment, env: ResourceEnvironment): Finding[] {
  return resourceFindings(ctx, experiment, { sizes: experiment.tasks.map(knownTaskSize), phases: phasesOf(experiment) }, env);
}

/** What the engine will change in what the file asks for, as far as the built-in datasets' sizes tell (clamps.ts). */
function clampFindings(ctx: Context, experiment: NormalisedExperiment): Finding[] {
  const phases = phasesOf(experiment);
  const given = (pointer: string) => locate(ctx.root, pointer).value !== undefined;
  return clampNotes(experiment, experiment.tasks.map(knownTaskSize), phases, given).map((n) => atValue(ctx, n.pointer, 'warning', n.message));
}

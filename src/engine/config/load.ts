// Loads an experiment file (*.cl.json): JSON syntax, schema and semantic checks, every problem at
// once with its line/column, then the experiment with every default filled in. The jobs live
// beside this file: source.ts (positions, pointers), syntax.ts, schemaErrors.ts + unions.ts (schema
// errors in words), semantic.ts, defaults.ts, benchmarks.ts + normalise.ts, schema.ts (+ the
// generated schemaSections.ts).
import { readFile } from 'node:fs/promises';
import { getNodeValue, parseTree, type ParseError } from 'jsonc-parser';
import type { ExperimentSpec, NormalisedExperiment } from '../../protocol/experiment';
import { experimentValidator } from './schema';
import { schemaFindings } from './schemaErrors';
import { semanticFindings } from './semantic';
import { SourceText, atValue, locate, overlaps, type Context, type ExperimentDiagnostic, type Finding } from './source';
import { duplicateKeyFindings, syntaxFindings } from './syntax';
import { normaliseExperiment } from './normalise';
import { clampNotes, knownTaskSize } from './clamps';
import { planPhases } from '../train/loop';
import { strategyDefinition } from '../strategies/registry';

export type { ExperimentDiagnostic } from './source';
export { EXPERIMENT_DEFAULTS, MODEL_PRESETS, BENCHMARK_DEFAULTS } from './defaults';
export { EXPERIMENT_FILE_SUFFIX, experimentNameFromFile, normaliseExperiment } from './normalise';
export { closestName } from './wording';

export interface ParsedExperiment {
  /** Null when any diagnostic is an error. */
  experiment: NormalisedExperiment | null;
  /** Sorted by position. */
  diagnostics: ExperimentDiagnostic[];
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
export function parseExperiment(text: string, file: string): ParsedExperiment {
  const doc = new SourceText(text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text);
  const findings: Finding[] = [];

  const parseErrors: ParseError[] = [];
  const root = parseTree(doc.text, parseErrors, { allowTrailingComma: false, disallowComments: true });
  const syntax = syntaxFindings(doc, parseErrors).map((f): Finding => ({ ...f, origin: 'syntax' }));
  findings.push(...syntax);

  let experiment: NormalisedExperiment | null = null;
  if (root) {
    const ctx: Context = { doc, root };
    const value: unknown = getNodeValue(root);
    const checks: Finding[] = duplicateKeyFindings(root).map((f): Finding => ({ ...f, origin: 'syntax' }));
    const validate = experimentValidator();
    const valid = validate(value);
    if (!valid) checks.push(...schemaFindings(ctx, validate.errors ?? [], '').map((f): Finding => ({ ...f, origin: 'schema' })));
    checks.push(...semanticFindings(ctx, value));
    if (valid && !syntax.length && !checks.some((f) => f.severity === 'error')) {
      experiment = normaliseExperiment(value as unknown as ExperimentSpec, file);
      checks.push(...clampFindings(ctx, experiment));
    }
    // Values around a syntax error are the parser's guesses: keep only findings away from them.
    findings.push(...checks.filter((f) => !syntax.some((s) => overlaps(f.subject, s.range))));
  }

  const diagnostics = findings
    .map((f) => doc.diagnostic(file, f))
    .sort((a, b) => a.offset - b.offset || severityRank(a) - severityRank(b));
  return { experiment, diagnostics };
}

/** What the engine will change in what the file asks for, as far as the built-in datasets' sizes tell (clamps.ts). */
function clampFindings(ctx: Context, experiment: NormalisedExperiment): Finding[] {
  const phases = planPhases(strategyDefinition(experiment.strategy.name)?.phases ?? 'sequential', experiment.tasks.length);
  const given = (pointer: string) => locate(ctx.root, pointer).value !== undefined;
  return clampNotes(experiment, experiment.tasks.map(knownTaskSize), phases, given).map((n) => atValue(ctx, n.pointer, 'warning', n.message));
}

// The one path from an experiment file to a written result, shared by the CLI and the trainer process.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RunEvent } from '../protocol/events';
import type { BackendName, RunResult } from '../protocol/result';
import { loadBackend } from './backend';
import { formatDiagnostic, parseExperiment } from './config/load';
import { writeReport } from './report';
import { runExperiment } from './runner';

export interface RunFileOptions {
  file: string;
  outDir: string;
  backend: BackendName | 'auto';
  dataDir?: string;
  cacheDir?: string;
  allowDownload?: boolean;
  /** Folder holding webview.js/webview.css; report.html is written when given. */
  assetsDir?: string;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
}

export type RunFileOutcome =
  | { kind: 'invalid'; errors: string[]; warnings: string[] }
  | { kind: 'ran'; result: RunResult; resultFile: string; warnings: string[] };

export async function runExperimentFile(opts: RunFileOptions): Promise<RunFileOutcome> {
  const file = resolve(opts.file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { kind: 'invalid', errors: [`${file}: cannot read the experiment file: ${(e as Error).message}`], warnings: [] };
  }
  const parsed = parseExperiment(text, file);
  const { experiment, diagnostics } = parsed;
  const errors = diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  const warnings = diagnostics.filter((d) => d.severity !== 'error').map(formatDiagnostic);
  if (errors.length || !experiment) return { kind: 'invalid', errors, warnings };
  // One process runs one experiment: a file with several (seeds/sweep) goes through a sweep runner.
  const runs = parsed.sweep?.runs.length ?? 1;
  if (runs > 1) return { kind: 'invalid', errors: [`${file}: has "seeds" or "sweep" (${runs} runs): run it as a sweep (continual-workbench run FILE, or Run Continual Experiment in VS Code)`], warnings };

  // An MLP's steps run on this thread, with a kernel helper in the threaded binary's shared memory.
  const { tf, info } = await loadBackend(opts.backend, { sharedWasmMemory: experiment.model.type === 'mlp' });
  const result = await runExperiment({
    tf,
    environment: info,
    experiment,
    experimentFile: file,
    outDir: resolve(opts.outDir),
    dataDir: opts.dataDir ?? process.env.CLW_DATA_DIR,
    cacheDir: opts.cacheDir,
    allowDownload: opts.allowDownload,
    signal: opts.signal,
    onEvent: opts.onEvent,
    onResultWritten: opts.assetsDir ? (r, dir) => writeReport(r, dir, opts.assetsDir!) : undefined,
  });
  return { kind: 'ran', result, resultFile: resolve(opts.outDir, 'result.json'), warnings };
}

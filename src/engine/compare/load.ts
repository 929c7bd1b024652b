// Reads what `compare` was given (run folders, result.json files, sweep folders) into a Comparison.
// Never throws on a bad path: what cannot be read is listed with the reason; a sweep's runs without
// a result yet are pending (a warning), not unreadable.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Comparison } from '../../protocol/compare';
import { RESULT_FORMAT_VERSION, upgradeResult, type RunResult, type RunStatus } from '../../protocol/result';
import { SWEEP_FILE, type SweepAxis } from '../../protocol/sweep';
import { readSweepIndex, readSweepRun } from '../sweep/folder';
import { buildComparison, type ComparisonInput } from './build';

export const RESULT_FILE = 'result.json';

const STATUSES: readonly RunStatus[] = ['running', 'completed', 'cancelled', 'failed'];
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A result file read and checked; the reason when it is not one this version can compare. */
export function readResultFile(file: string): { ok: true; result: RunResult } | { ok: false; reason: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not valid JSON (${(e as Error).message}): cut off while being written?` };
  }
  if (!isRecord(data)) return { ok: false, reason: 'not a Continual Workbench result: not a JSON object' };
  const missing: string[] = [];
  if (typeof data.formatVersion !== 'number') missing.push('formatVersion');
  if (!STATUSES.includes(data.status as RunStatus)) missing.push('status');
  if (!isRecord(data.experiment) || !Array.isArray(data.experiment.tasks)) missing.push('experiment');
  for (const key of ['tasks', 'accuracyMatrix', 'curves'] as const) if (!Array.isArray(data[key])) missing.push(key);
  if (!isRecord(data.metrics)) missing.push('metrics');
  if (missing.length) return { ok: false, reason: `not a Continual Workbench result: missing or malformed ${missing.join(', ')}` };
  if ((data.formatVersion as number) > RESULT_FORMAT_VERSION) {
    return { ok: false, reason: `result format ${data.formatVersion} is newer than this version reads (${RESULT_FORMAT_VERSION}): update the workbench` };
  }
  return { ok: true, result: upgradeResult(data as unknown as RunResult) };
}

interface Source {
  inputs: ComparisonInput[];
  sweep?: { name: string; axes: SweepAxis[] };
}

function loadSweep(dir: string, out: Comparison['unreadable'], warnings: string[]): Source {
  const index = readSweepIndex(dir);
  const inputs: ComparisonInput[] = [];
  let pending = 0;
  let running = 0;
  for (const entry of index.runs) {
    const file = join(dir, entry.folder, RESULT_FILE);
    const run = readSweepRun(dir, entry);
    if (run.state === 'missing') {
      out.push({ path: join(dir, entry.folder), reason: `run ${entry.index} of the sweep: ${run.error ?? 'its folder is gone'}` });
      continue;
    }
    if (!existsSync(file)) {
      if (run.state === 'running') running++;
      else pending++;
      continue;
    }
    const read = readResultFile(file);
    if (!read.ok) {
      out.push({ path: file, reason: read.reason });
      continue;
    }
    // A result still saying "running" whose process is gone was interrupted: it failed.
    const result = read.result.status === 'running' && run.state === 'failed' ? { ...read.result, status: 'failed' as const, error: { phase: 'trainer' as const, message: run.error ?? 'interrupted' } } : read.result;
    inputs.push({ resultFile: file, result, params: entry.params });
  }
  const waiting = [pending ? `${pending} pending (no result yet)` : '', running ? `${running} running without a result yet` : ''].filter(Boolean).join(', ');
  if (waiting) warnings.push(`${index.name}: ${waiting} of ${index.runs.length} runs: not in the comparison until they finish`);
  return { inputs, sweep: { name: index.name, axes: index.axes } };
}

/**
 * The comparison of `paths` (run folders, result.json files, sweep folders or their sweep.json), in
 * the order given; each result file once.
 */
export function loadComparison(paths: string[]): Comparison {
  const unreadable: Comparison['unreadable'] = [];
  const warnings: string[] = [];
  const sources: Source[] = [];
  for (const given of paths) {
    const path = resolve(given);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      unreadable.push({ path, reason: code === 'ENOENT' ? 'no such file or folder' : `cannot read: ${(e as Error).message}` });
      continue;
    }
    const folder = isDir ? path : basename(path) === SWEEP_FILE ? dirname(path) : null;
    try {
      if (folder && existsSync(join(folder, SWEEP_FILE))) {
        sources.push(loadSweep(folder, unreadable, warnings));
        continue;
      }
    } catch (e) {
      unreadable.push({ path, reason: (e as Error).message });
      continue;
    }
    const file = isDir ? join(path, RESULT_FILE) : path;
    if (isDir && !existsSync(file)) {
      unreadable.push({ path, reason: `neither a run folder (no ${RESULT_FILE}) nor a sweep folder (no ${SWEEP_FILE})` });
      continue;
    }
    const read = readResultFile(file);
    if (read.ok) sources.push({ inputs: [{ resultFile: file, result: read.result }] });
    else unreadable.push({ path: file, reason: read.reason });
  }
  const seen = new Set<string>();
  const inputs = sources.flatMap((s) => s.inputs).filter((i) => !seen.has(i.resultFile) && !!seen.add(i.resultFile));
  // Swept axes and the title come from the sweep when the comparison is exactly one sweep.
  const sweeps = sources.filter((s) => s.sweep);
  const one = sweeps.length === 1 && sources.length === 1 ? sweeps[0].sweep : undefined;
  const c = buildComparison(inputs, one?.axes ?? [], one?.name);
  c.unreadable = unreadable;
  c.warnings = [...warnings, ...c.warnings];
  return c;
}

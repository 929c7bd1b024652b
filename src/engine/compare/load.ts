// Reads what `compare` was given (run folders, result.json files, sweep folders) into a Comparison.
// Never throws on a bad path: what cannot be read is listed with the reason; a sweep's runs without
// a result yet are pending (a warning), not unreadable.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Comparison } from '../../protocol/compare';
import type { RunResult } from '../../protocol/result';
import { readRunResultFile } from '../resultFile';
import { SWEEP_FILE, type SweepAxis } from '../../protocol/sweep';
import { readSweepIndex, readSweepRun } from '../sweep/folder';
import { buildComparison, type ComparisonInput } from './build';

export const RESULT_FILE = 'result.json';

/** A result file read and checked (engine/resultFile.ts); the reason when it is not one this version can compare. */
export function readResultFile(file: string): { ok: true; result: RunResult } | { ok: false; reason: string } {
  const read = readRunResultFile(file);
  // "This file is not valid JSON (…)." reads as "torn/result.json: not valid JSON (…)" in a list of paths.
  return read.ok ? read : { ok: false, reason: read.error.replace(/^This file is /, '').replace(/\.$/, '') };
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

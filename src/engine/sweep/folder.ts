// A sweep folder on disk: `<resultsDir>/<YYYYMMDD-HHMMSS>-<name>-sweep/` with sweep.json (the
// index, written atomically) and one folder per run, `runs/NNN-<label>/`, holding that run's
// expanded experiment as a complete standalone file (experiment.cl.json): running it alone with
// `--out` that folder reproduces the run. Each run's state is read from its result.json.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ExperimentSpec } from '../../protocol/experiment';
import type { RunResult } from '../../protocol/result';
import { SWEEP_FILE, SWEEP_FORMAT_VERSION, SWEEP_RUN_EXPERIMENT, type SweepExecutor, type SweepIndex, type SweepRunEntry, type SweepRunState } from '../../protocol/sweep';
import { writeFileAtomic } from '../atomicWrite';
import { lockHolder } from '../runLock';
import { readRunResultFile } from '../resultFile';
import { parseSweepIndexText } from './sweepIndex';

export { parseSweepIndexText } from './sweepIndex';
import { slugOf, timestampOf } from '../runFolderName';
import { sweepRunLabel, type SweepExpansion } from '../config/sweep';

/** Folder holding the runs inside a sweep folder. */
export const SWEEP_RUNS_DIR = 'runs';

/** "20261130-101500-ewc-lambda-sweep" (a second sweep in the same second gets "-2"). */
export function sweepFolderName(name: string, createdAt: Date, attempt = 1): string {
  const base = `${timestampOf(createdAt)}-${slugOf(name)}-sweep`;
  return attempt > 1 ? `${base}-${attempt}` : base;
}

/** A run's folder relative to the sweep folder: "runs/003-lambda-1000-seed-1". */
export function sweepRunFolder(index: number, label: string): string {
  return `${SWEEP_RUNS_DIR}/${String(index).padStart(3, '0')}-${label}`;
}

/** True when the folder holds a sweep.json. */
export function isSweepFolder(dir: string): boolean {
  return existsSync(join(dir, SWEEP_FILE));
}

/**
 * A run's experiment as a file of its own: the experiment's name (a file called experiment.cl.json
 * would otherwise be named "experiment"), task paths made absolute (they were relative to the
 * original file's folder), no $schema (a relative path would point nowhere from the run folder).
 */
export function standaloneRunSpec(spec: ExperimentSpec, name: string, experimentFile: string): ExperimentSpec {
  const { $schema: _schema, ...rest } = structuredClone(spec) as ExperimentSpec & Record<string, unknown>;
  delete rest.seeds;
  delete rest.sweep;
  const out: ExperimentSpec = { name: spec.name ?? name, ...rest };
  const folder = dirname(resolve(experimentFile));
  for (const t of out.tasks ?? []) if (t.path !== undefined && !isAbsolute(t.path)) t.path = resolve(folder, t.path);
  return out;
}

/** Writes a run's experiment.cl.json (atomically). */
export function writeSweepRunExperiment(sweepDir: string, entry: SweepRunEntry, spec: ExperimentSpec, name: string, experimentFile: string): string {
  const file = join(sweepDir, entry.folder, SWEEP_RUN_EXPERIMENT);
  writeFileAtomic(file, JSON.stringify(standaloneRunSpec(spec, name, experimentFile), null, 2) + '\n');
  return file;
}

/** The index entries of an expansion, with their folders. */
export function sweepEntries(expansion: SweepExpansion): SweepRunEntry[] {
  return expansion.runs.map(({ entry }) => ({ ...entry, folder: sweepRunFolder(entry.index, sweepRunLabel(expansion.axes, entry.params)) }));
}

/**
 * Creates `<resultsDir>/<YYYYMMDD-HHMMSS>-<name>-sweep/` (a new folder: mkdir fails on an existing
 * one, so two sweeps never share one), each run's folder with its experiment.cl.json, then
 * sweep.json (last: a reader of the index finds every run's experiment in place).
 */
export function createSweepFolder(
  resultsDir: string,
  name: string,
  experimentFile: string,
  expansion: SweepExpansion,
  executor: SweepExecutor,
  now = new Date(),
): { dir: string; index: SweepIndex } {
  mkdirSync(resultsDir, { recursive: true });
  let dir = '';
  for (let attempt = 1; ; attempt++) {
    dir = resolve(resultsDir, sweepFolderName(name, now, attempt));
    try {
      mkdirSync(dir);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 1000) throw e;
    }
  }
  const runs = sweepEntries(expansion);
  runs.forEach((entry, i) => writeSweepRunExperiment(dir, entry, expansion.runs[i].spec, name, experimentFile));
  const index: SweepIndex = {
    formatVersion: SWEEP_FORMAT_VERSION,
    kind: 'sweep',
    name,
    experimentFile: resolve(experimentFile),
    createdAt: now.toISOString(),
    axes: structuredClone(expansion.axes),
    runs,
    executor,
  };
  writeSweepIndex(dir, index);
  return { dir, index };
}

function writeSweepIndex(dir: string, index: SweepIndex): void {
  writeFileAtomic(join(dir, SWEEP_FILE), JSON.stringify(index, null, 2) + '\n');
}

/** Reads and checks `<dir>/sweep.json`; throws an error that names the file and what is wrong. */
export function readSweepIndex(dir: string): SweepIndex {
  const file = join(dir, SWEEP_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${dir} is not a sweep folder: it has no ${SWEEP_FILE}` : `cannot read ${file}: ${(e as Error).message}`);
  }
  return parseSweepIndexText(text, file);
}


/** Changes sweep.json: reads it, applies `fn` (which may mutate or return a new index), writes it atomically. */
export function updateSweepIndex(dir: string, fn: (index: SweepIndex) => SweepIndex | void): SweepIndex {
  const index = readSweepIndex(dir);
  const next = fn(index) ?? index;
  writeSweepIndex(dir, next);
  return next;
}

/** What a run's folder says about it: its state and, when it has one, its result (or why it cannot be read). */
export interface SweepRunStatus {
  state: SweepRunState;
  result?: RunResult;
  /** Why a result cannot be read, or a run's error message. */
  error?: string;
}

/** Whether a run.lock is held by a live process (engine/runLock.ts). */
const lockHeld = (runDir: string): boolean => lockHolder(runDir) !== undefined;

/**
 * One run's state from its folder: missing (folder gone), pending (no result yet), running (its
 * result says running and its lock is held), completed / cancelled / failed as its result says; a
 * "running" result whose process is gone is failed (interrupted), and an unreadable result is failed.
 */
export function readSweepRun(sweepDir: string, entry: SweepRunEntry): SweepRunStatus {
  const runDir = join(sweepDir, entry.folder);
  if (!existsSync(runDir)) return { state: 'missing', error: `its folder ${runDir} is gone` };
  const file = join(runDir, 'result.json');
  const read = readRunResultFile(file);
  if (!read.ok && 'missing' in read) return { state: lockHeld(runDir) ? 'running' : 'pending' };
  if (!read.ok) return { state: 'failed', error: `${file} cannot be read: ${read.error}` };
  const result = read.result;
  if (result.status === 'running') {
    return lockHeld(runDir) ? { state: 'running', result } : { state: 'failed', result, error: 'interrupted: its process ended without finishing the result' };
  }
  return { state: result.status, result, ...(result.error ? { error: result.error.message } : {}) };
}

/** Every run's state, in index order. */
export function sweepRunStates(dir: string, index: SweepIndex): SweepRunState[] {
  return index.runs.map((entry) => readSweepRun(dir, entry).state);
}

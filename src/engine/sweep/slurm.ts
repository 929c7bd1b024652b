// Sweeps on Slurm: one job-array task per run of a sweep folder. Writes the array script, submits it
// with `sbatch --parsable`, records the submission in sweep.json, and reads each array task's state
// back from squeue (queued/running), scontrol (recently ended) and sacct or the job completion log
// (ended, where the cluster keeps them). Slurm commands go through an injectable exec so the parsers
// are unit-tested on captured output; test/e2e/slurm.test.ts runs them against a real cluster.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import type { RunResult } from '../../protocol/result';
import { SWEEP_FILE, SWEEP_RUN_EXPERIMENT, type SweepRunEntry, type SweepRunState } from '../../protocol/sweep';
import { writeFileAtomic } from '../atomicWrite';
import { readSweepIndex, readSweepRun, updateSweepIndex } from './folder';

/** Folder of a sweep holding the array scripts and the array tasks' logs. */
export const SLURM_DIR = 'slurm';

// ---- running Slurm's commands -----------------------------------------------------------------

export interface ExecResult {
  /** Exit code; 127 when the command does not exist. */
  code: number;
  stdout: string;
  stderr: string;
}
/** Runs one Slurm client command (no shell). */
export type SlurmExec = (command: string, args: string[], opts?: { cwd?: string }) => Promise<ExecResult>;

/** The real commands, from PATH. A missing binary is exit code 127 with a message, not a throw. */
export const execSlurm: SlurmExec = (command, args, opts) =>
  new Promise((done) => {
    execFile(command, args, { cwd: opts?.cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (!err) return done({ code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      if (e.code === 'ENOENT') return done({ code: 127, stdout: '', stderr: `${command}: command not found (is Slurm installed, and is this a login node of the cluster?)` });
      if (e.killed) return done({ code: 124, stdout, stderr: `${stderr}${command}: timed out after 60 s` });
      done({ code: typeof e.code === 'number' ? e.code : 1, stdout, stderr: stderr || e.message });
    });
  });

/** A failed Slurm command, with what it printed. */
export class SlurmCommandError extends Error {
  override readonly name = 'SlurmCommandError';
  constructor(
    readonly command: string,
    readonly result: ExecResult,
  ) {
    super(`${command} failed (exit code ${result.code}): ${(result.stderr || result.stdout).trim() || 'no output'}`);
  }
}

// ---- array index specs ------------------------------------------------------------------------

/** Indices as a Slurm array spec: [0,1,2,5,7,8] -> "0-2,5,7-8". */
export function arraySpec(indices: number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** A Slurm array spec back to indices: "0-2,5", "[0-3]", "0-7:2", "0-3%2" (throttle ignored). */
export function parseArraySpec(spec: string): number[] {
  const body = spec.trim().replace(/%\d+$/, '').replace(/^\[|\]$/g, '');
  const out: number[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Math.max(1, Number(m[3]));
    for (let k = from; k <= to; k += step) out.push(k);
  }
  return out;
}

// ---- the array script -------------------------------------------------------------------------

export interface SlurmScriptOptions {
  /** Absolute sweep folder (shared by the login node and the compute nodes). */
  sweepDir: string;
  jobName: string;
  /** Every run of the sweep (index -> folder); the case table lists them all. */
  runs: { index: number; folder: string }[];
  /** The array indices this submission runs. */
  indices: number[];
  /** Node.js on the compute nodes. */
  node: string;
  /** continual-workbench's CLI (dist/cli.js) on the compute nodes. */
  cliPath: string;
  partition?: string;
  /** Slurm time limit, e.g. "00:30:00" or "2:00:00". */
  time?: string;
  /** CPUs per array task (default 1: one tfjs thread per run). */
  cpusPerTask?: number;
}

/** 'text' as one single-quoted shell word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A value of an #SBATCH line: double-quoted (sbatch accepts spaces inside quotes). */
function sbatchValue(text: string, what: string): string {
  if (/["\n\r]/.test(text)) throw new Error(`${what} may not contain a double quote or a line break for Slurm: ${text}`);
  return `"${text}"`;
}

/** The log of array task `index` of job `jobId` (what --output=%A_%a.log names it). */
export function slurmLogPath(sweepDir: string, jobId: string, index: number): string {
  return join(sweepDir, SLURM_DIR, `${jobId}_${index}.log`);
}

/** Slurm job names: short, no spaces or odd characters (squeue's NAME column is 8 wide by default). */
export function slurmJobName(sweepName: string): string {
  const slug = sweepName.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `clw-${slug || 'sweep'}`;
}

/**
 * The job-array script: array task i runs `continual-workbench run <run i>/experiment.cl.json
 * --out <run i>` with its stdout and stderr in slurm/<jobid>_<i>.log. Runs are looked up in a
 * case table so the script needs nothing but a shell on the compute node.
 */
export function writeSlurmScript(o: SlurmScriptOptions): string {
  if (!o.indices.length) throw new Error('a job array needs at least one index');
  const known = new Set(o.runs.map((r) => r.index));
  const unknown = o.indices.filter((i) => !known.has(i));
  if (unknown.length) throw new Error(`no run with array index ${unknown.join(', ')} in the sweep`);
  // sbatch expands %A (array job id) and %a (array index); a literal % is %%.
  const output = join(o.sweepDir, SLURM_DIR, '%A_%a.log');
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=${sbatchValue(o.jobName, 'the job name')}`,
    `#SBATCH --array=${arraySpec(o.indices)}`,
    `#SBATCH --output=${sbatchValue(output.replace(/%(?![Aa])/g, '%%'), 'the sweep folder')}`,
    `#SBATCH --chdir=${sbatchValue(o.sweepDir, 'the sweep folder')}`,
    `#SBATCH --cpus-per-task=${o.cpusPerTask ?? 1}`,
  ];
  if (o.partition) lines.push(`#SBATCH --partition=${sbatchValue(o.partition, 'the partition')}`);
  if (o.time) lines.push(`#SBATCH --time=${sbatchValue(o.time, 'the time limit')}`);
  lines.push(
    '# Written by continual-workbench: one array task per run of the sweep in this folder (sweep.json).',
    '# Resubmit the runs that did not complete from the CLI or VS Code, not by re-running this file:',
    '# completed runs are skipped and the submission is recorded in sweep.json.',
    'set -u',
    `SWEEP=${shellQuote(o.sweepDir)}`,
    'case "${SLURM_ARRAY_TASK_ID:-}" in',
    ...[...o.runs].sort((a, b) => a.index - b.index).map((r) => `  ${r.index}) RUN=${shellQuote(r.folder)} ;;`),
    '  *) echo "continual-workbench: no run with array index ${SLURM_ARRAY_TASK_ID:-(none)} in $SWEEP" >&2; exit 2 ;;',
    'esac',
    'echo "continual-workbench: run $SLURM_ARRAY_TASK_ID ($RUN), array job ${SLURM_ARRAY_JOB_ID:-?}, on $(hostname) at $(date -Is)"',
    `exec ${shellQuote(o.node)} ${shellQuote(o.cliPath)} run "$SWEEP/$RUN/${SWEEP_RUN_EXPERIMENT}" --out "$SWEEP/$RUN"`,
    '',
  );
  return lines.join('\n');
}

// ---- parsing Slurm's output -------------------------------------------------------------------

/** One array task as a Slurm command reported it. */
export interface SlurmTaskRecord {
  /** The array job id (what sbatch printed). */
  arrayJobId: string;
  index: number;
  /** Slurm's job state: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, ... */
  state: string;
  /** "code:signal" once ended. */
  exitCode?: string;
  /** Why it is pending (squeue, scontrol). */
  reason?: string;
  source: 'squeue' | 'scontrol' | 'sacct' | 'jobcomp';
  /** Submit time as Slurm prints it (local time, no zone), when reported. */
  submitTime?: string;
}

/** `sbatch --parsable` prints "jobid" or "jobid;cluster". */
export function parseSbatchParsable(stdout: string): string {
  const line = stdout.trim().split('\n').pop() ?? '';
  const id = line.split(';')[0].trim();
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${JSON.stringify(stdout.trim())}`);
  return id;
}

/** The squeue format parseSqueue reads: array job id, array index, state, reason. */
export const SQUEUE_FORMAT = '%F|%K|%T|%r';

/** `squeue -h -r -o '%F|%K|%T|%r'`: one line per array task (a pending range is expanded). */
export function parseSqueue(stdout: string): SlurmTaskRecord[] {
  const out: SlurmTaskRecord[] = [];
  for (const line of stdout.split('\n')) {
    const [jobId, task, state, reason] = line.trim().split('|');
    if (!jobId || !/^\d+$/.test(jobId) || task === undefined || !state) continue;
    // A job that is not an array has "N/A" as its index.
    for (const index of parseArraySpec(task)) out.push({ arrayJobId: jobId, index, state: state.trim(), reason: reason?.trim() || undefined, source: 'squeue' });
  }
  return out;
}

/**
 * Slurm's "Key=value Key=value" text (scontrol show job, the job completion log) as a record.
 * Values may contain spaces ("JobName=clw test"): a value runs up to the next " Key=".
 */
export function parseKeyValues(text: string): Record<string, string> {
  const rec: Record<string, string> = {};
  const key = /(?:^|\s)([A-Za-z][\w/:]*)=/g;
  const marks: { name: string; start: number; end: number }[] = [];
  for (let m = key.exec(text); m; m = key.exec(text)) marks.push({ name: m[1], start: m.index, end: m.index + m[0].length });
  marks.forEach((mk, i) => {
    const value = text.slice(mk.end, i + 1 < marks.length ? marks[i + 1].start : text.length).trim();
    if (!(mk.name in rec)) rec[mk.name] = value;
  });
  return rec;
}

function recordToTask(rec: Record<string, string>, source: SlurmTaskRecord['source']): SlurmTaskRecord[] {
  const arrayJobId = rec.ArrayJobId;
  const task = rec.ArrayTaskId;
  const state = rec.JobState?.split(/\s/)[0];
  if (!arrayJobId || task === undefined || !state) return [];
  return parseArraySpec(task).map((index) => ({
    arrayJobId,
    index,
    state,
    exitCode: rec.ExitCode || undefined,
    reason: rec.Reason && rec.Reason !== 'None' ? rec.Reason : undefined,
    source,
    submitTime: rec.SubmitTime || undefined,
  }));
}

/** `scontrol show job <id>` (records separated by blank lines); the pending rest of an array is one record with a range. */
export function parseScontrolJobs(stdout: string): SlurmTaskRecord[] {
  return stdout
    .split(/\n\s*\n/)
    .filter((block) => /\bJobId=/.test(block))
    .flatMap((block) => recordToTask(parseKeyValues(block.replace(/\s+/g, ' ')), 'scontrol'));
}

/** The job completion log (JobCompType=jobcomp/filetxt): one "JobId=... JobState=... ArrayJobId=... ArrayTaskId=..." line per ended task. */
export function parseJobCompLog(text: string): SlurmTaskRecord[] {
  return text
    .split('\n')
    .filter((l) => l.includes('JobId='))
    .flatMap((l) => recordToTask(parseKeyValues(l), 'jobcomp'));
}

/** The sacct format parseSacct reads. */
export const SACCT_FORMAT = 'JobID,State,ExitCode,Submit';

/** `sacct -n -P -X -o JobID,State,ExitCode,Submit -j ...`: "12_3|FAILED|1:0|2026-...". Steps and plain jobs are skipped. */
export function parseSacct(stdout: string): SlurmTaskRecord[] {
  const out: SlurmTaskRecord[] = [];
  for (const line of stdout.split('\n')) {
    const [id, state, exitCode, submit] = line.trim().split('|');
    const m = /^(\d+)_(\d+|\[[^\]]*\])$/.exec(id ?? '');
    if (!m || !state) continue;
    for (const index of parseArraySpec(m[2])) {
      out.push({ arrayJobId: m[1], index, state: state.split(/\s/)[0], exitCode: exitCode || undefined, source: 'sacct', submitTime: submit || undefined });
    }
  }
  return out;
}

/** `scontrol show config`: "Key = value" lines. */
export function parseSlurmConfig(stdout: string): Record<string, string> {
  const conf: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\w+)\s+=\s?(.*)$/.exec(line.trimEnd());
    if (m) conf[m[1]] = m[2].trim();
  }
  return conf;
}

// ---- the sweep folder -------------------------------------------------------------------------

/** What a run's folder says (folder.ts): completed, failed and cancelled are final; anything else asks Slurm. */
function folderOutcome(dir: string, entry: SweepRunEntry): { status?: RunResult['status']; error?: string; gone?: string } {
  const r = readSweepRun(dir, entry);
  if (r.state === 'completed' || r.state === 'failed' || r.state === 'cancelled') return { status: r.state, error: r.error?.split('\n')[0] };
  if (r.state === 'missing') return { gone: r.error ?? 'its folder is gone' };
  return {};
}

// ---- states -----------------------------------------------------------------------------------

/** Slurm states of a task that has not ended. */
const ACTIVE = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'STOPPED', 'RESV_DEL_HOLD']);
const QUEUED = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD']);

export interface SlurmRunStatus {
  index: number;
  /** Run folder relative to the sweep folder. */
  folder: string;
  state: SweepRunState;
  /** The array job of the latest submission that included this run. */
  jobId?: string;
  /** Slurm's state of that array task (PENDING, RUNNING, COMPLETED, FAILED, ...), when Slurm still knows it. */
  slurmState?: string;
  /** The array task's log (stdout and stderr). */
  log?: string;
  /** Why the state is what it is, in a sentence (failed and missing runs always have one). */
  message?: string;
}

/** Combines what the run folder says with what Slurm says about the run's latest array task. */
export function runStateFrom(
  result: RunResult['status'] | undefined,
  task: SlurmTaskRecord | undefined,
  submitted: boolean,
  logExists: boolean,
  slurmKnown: boolean,
  error?: string,
): { state: SweepRunState; message?: string } {
  if (result === 'completed') return { state: 'completed' };
  // A resubmitted run's array task is queued or running: its folder's failed result is the last attempt's.
  if (submitted && task && ACTIVE.has(task.state)) {
    if (QUEUED.has(task.state)) return { state: 'pending', message: task.reason ? `pending (${task.reason})` : 'pending' };
    return { state: 'running' };
  }
  if (result === 'failed') return { state: 'failed', message: error ? `the run failed (${error})` : 'the run failed (result.json)' };
  if (result === 'cancelled') return { state: 'cancelled', message: 'the run was cancelled (result.json)' };
  if (!submitted) return { state: 'missing', message: 'not submitted to Slurm yet' };
  if (task) {
    const exit = task.exitCode ? ` (exit code ${task.exitCode})` : '';
    if (task.state === 'CANCELLED') return { state: 'cancelled', message: `the array task was cancelled${exit}` };
    if (task.state === 'COMPLETED') return { state: 'failed', message: `the array task ended${exit} without a completed result.json` };
    return { state: 'failed', message: `the array task ended ${task.state}${exit}` };
  }
  if (!slurmKnown) return { state: 'missing', message: 'Slurm could not be asked about the array task' };
  if (logExists) return { state: 'failed', message: 'the array task ended without a completed result.json (Slurm no longer lists it)' };
  return { state: 'missing', message: 'Slurm no longer lists the array task and it left no log' };
}

/** The latest record of each (array job, index): the ended record wins over a stale queued one of the same source order given. */
function latestByTask(records: SlurmTaskRecord[]): Map<string, SlurmTaskRecord> {
  const map = new Map<string, SlurmTaskRecord>();
  for (const r of records) map.set(`${r.arrayJobId}_${r.index}`, r);
  return map;
}

/** This process's user name (squeue -u); the environment's when the passwd entry is missing (containers). */
function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? String(process.getuid?.() ?? '');
  }
}

/** Slurm prints local times without a zone ("2026-11-30T00:04:33"); JS reads those as local time too. */
function slurmTime(text: string | undefined): number {
  const t = text ? Date.parse(text) : NaN;
  return Number.isFinite(t) ? t : NaN;
}

export interface SlurmStatusOptions {
  exec?: SlurmExec;
  /** The user whose jobs squeue lists (default: this process's user). */
  user?: string;
}

/**
 * Every run of a Slurm sweep with its state: result.json first (completed/failed/cancelled), then
 * the latest array task of the run from squeue (pending/running), scontrol, sacct where accounting
 * is configured, else the job completion log. An array task that ended without a completed result
 * is failed, with its log; nothing is left out.
 */
export async function slurmStatus(sweepDir: string, opts: SlurmStatusOptions = {}): Promise<SlurmRunStatus[]> {
  const exec = opts.exec ?? execSlurm;
  const dir = resolve(sweepDir);
  const index = readSweepIndex(dir);
  const submissions = index.executor.type === 'slurm' ? index.executor.submissions : [];
  // The latest submission of each run.
  const latest = new Map<number, (typeof submissions)[number]>();
  for (const s of submissions) for (const i of s.arrayIndices) latest.set(i, s);
  const results = new Map(index.runs.map((r) => [r.index, folderOutcome(dir, r)]));
  // Slurm is asked about every submitted run without a completed result (a failed one gets its exit code).
  const needSlurm = index.runs.some((r) => latest.has(r.index) && results.get(r.index)?.status !== 'completed');

  let records = new Map<string, SlurmTaskRecord>();
  let slurmKnown = true;
  if (needSlurm) {
    const jobIds = [...new Set(submissions.map((s) => s.jobId))];
    const found = await querySlurmTasks(jobIds, exec, opts.user ?? currentUser(), submissions);
    records = found.records;
    slurmKnown = found.queueKnown;
  }
  return index.runs.map((run) => {
    const sub = latest.get(run.index);
    const task = sub ? records.get(`${sub.jobId}_${run.index}`) : undefined;
    const log = sub ? slurmLogPath(dir, sub.jobId, run.index) : undefined;
    const logExists = !!log && existsSync(log);
    const outcome = results.get(run.index);
    const { state, message } = outcome?.gone ? { state: 'missing' as const, message: outcome.gone } : runStateFrom(outcome?.status, task, !!sub, logExists, slurmKnown, outcome?.error);
    return {
      index: run.index,
      folder: run.folder,
      state,
      jobId: sub?.jobId,
      slurmState: task?.state,
      log: log && (logExists || state === 'failed') ? log : undefined,
      message,
    };
  });
}

/**
 * What Slurm knows about the array tasks of these jobs. Later sources override earlier ones:
 * ended records (jobcomp, sacct, scontrol) first, then squeue, whose view of a live task is current.
 */
export async function querySlurmTasks(
  jobIds: string[],
  exec: SlurmExec,
  user: string,
  submissions: { jobId: string; submittedAt: string }[] = [],
): Promise<{ records: Map<string, SlurmTaskRecord>; queueKnown: boolean; sources: string[] }> {
  const all: SlurmTaskRecord[] = [];
  const sources: string[] = [];
  if (!jobIds.length) return { records: new Map(), queueKnown: true, sources };
  const wanted = new Set(jobIds);
  const submittedAt = new Map(submissions.map((s) => [s.jobId, Date.parse(s.submittedAt)]));
  // A job id can come back after a cluster's state was wiped: ignore ended records submitted well before ours.
  const ours = (r: SlurmTaskRecord) => {
    if (!wanted.has(r.arrayJobId)) return false;
    const at = submittedAt.get(r.arrayJobId);
    const t = slurmTime(r.submitTime);
    return !(Number.isFinite(at) && Number.isFinite(t) && t < at! - 5 * 60_000);
  };

  const conf = await exec('scontrol', ['show', 'config']);
  const config = conf.code === 0 ? parseSlurmConfig(conf.stdout) : {};
  // Ended tasks: sacct where accounting is configured, else the job completion log.
  const accounting = config.AccountingStorageType && config.AccountingStorageType !== 'accounting_storage/none';
  if (accounting) {
    const r = await exec('sacct', ['-n', '-P', '-X', '-o', SACCT_FORMAT, '-j', jobIds.join(',')]);
    if (r.code === 0) {
      all.push(...parseSacct(r.stdout).filter(ours));
      sources.push('sacct');
    }
  }
  if (config.JobCompType === 'jobcomp/filetxt' && config.JobCompLoc) {
    try {
      all.push(...parseJobCompLog(readFileSync(config.JobCompLoc, 'utf8')).filter(ours));
      sources.push('jobcomp');
    } catch {
      // not readable from here (another machine, or the slurm user's file): scontrol and squeue remain
    }
  }
  // Recently ended and queued tasks, with exit codes (kept MinJobAge seconds after they end).
  for (const id of jobIds) {
    const r = await exec('scontrol', ['show', 'job', id]);
    if (r.code === 0) all.push(...parseScontrolJobs(r.stdout).filter(ours));
  }
  sources.push('scontrol');
  // The queue last: pending and running tasks as they are now.
  const q = await exec('squeue', ['-h', '-r', '-u', user, '-o', SQUEUE_FORMAT]);
  const queueKnown = q.code === 0;
  if (queueKnown) {
    const queued = parseSqueue(q.stdout).filter((r) => wanted.has(r.arrayJobId));
    const live = new Set(queued.map((r) => `${r.arrayJobId}_${r.index}`));
    // A task scontrol saw as active but the queue no longer lists has ended since: drop the stale record.
    for (let i = all.length - 1; i >= 0; i--) {
      const r = all[i];
      if (r.source === 'scontrol' && ACTIVE.has(r.state) && !live.has(`${r.arrayJobId}_${r.index}`)) all.splice(i, 1);
    }
    all.push(...queued);
    sources.push('squeue');
  }
  return { records: latestByTask(all), queueKnown, sources };
}

// ---- submitting -------------------------------------------------------------------------------

export interface SlurmSubmitOptions {
  /** continual-workbench's CLI on the compute nodes (dist/cli.js). */
  cliPath: string;
  /** Node.js on the compute nodes (default: this process's). */
  node?: string;
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  /** Submit again the runs that have not completed (and are not queued or running). */
  resubmit?: boolean;
  exec?: SlurmExec;
  user?: string;
}

export type SlurmSubmitOutcome =
  | { kind: 'submitted'; jobId: string; indices: number[]; script: string; skipped: number[] }
  | { kind: 'nothing'; reason: string; skipped: number[] };

/**
 * Submits the runs of a sweep folder that have not completed as one job array. The first submission
 * takes every run without a completed result; with `resubmit`, the runs that are neither completed
 * nor still queued or running. The submission is recorded in sweep.json (executor.submissions).
 */
export async function submitSlurmSweep(sweepDir: string, o: SlurmSubmitOptions): Promise<SlurmSubmitOutcome> {
  const exec = o.exec ?? execSlurm;
  const dir = resolve(sweepDir);
  const index = readSweepIndex(dir);
  const previous = index.executor.type === 'slurm' ? index.executor.submissions : [];
  if (previous.length && !o.resubmit) {
    throw new Error(`${dir} was already submitted to Slurm (job ${previous.map((s) => s.jobId).join(', ')}); resubmit it to run the runs that did not complete`);
  }
  const completed = index.runs.filter((r) => readSweepRun(dir, r).state === 'completed').map((r) => r.index);
  let active: number[] = [];
  if (previous.length) {
    const statuses = await slurmStatus(dir, { exec, user: o.user });
    active = statuses.filter((s) => s.state === 'pending' || s.state === 'running').map((s) => s.index);
  }
  const skip = new Set([...completed, ...active]);
  const indices = index.runs.map((r) => r.index).filter((i) => !skip.has(i));
  const skipped = [...skip].sort((a, b) => a - b);
  if (!indices.length) {
    const reason = active.length ? `every run is completed or still queued/running (${arraySpec(active)})` : 'every run is completed';
    return { kind: 'nothing', reason, skipped };
  }
  const partition = o.partition ?? (index.executor.type === 'slurm' ? index.executor.partition : undefined);
  const time = o.time ?? (index.executor.type === 'slurm' ? index.executor.time : undefined);
  const script = writeSlurmScript({
    sweepDir: dir,
    jobName: slurmJobName(index.name),
    runs: index.runs,
    indices,
    node: o.node ?? process.execPath,
    cliPath: resolve(o.cliPath),
    partition,
    time,
    cpusPerTask: o.cpusPerTask,
  });
  mkdirSync(join(dir, SLURM_DIR), { recursive: true });
  const scriptRel = join(SLURM_DIR, `submit-${previous.length + 1}.sh`);
  const scriptFile = join(dir, scriptRel);
  writeFileAtomic(scriptFile, script);
  chmodSync(scriptFile, 0o755);
  const r = await exec('sbatch', ['--parsable', scriptFile], { cwd: dir });
  if (r.code !== 0) throw new SlurmCommandError('sbatch', r);
  const jobId = parseSbatchParsable(r.stdout);
  const submission = { jobId, arrayIndices: indices, submittedAt: new Date().toISOString(), script: scriptRel };
  try {
    updateSweepIndex(dir, (ix) => {
      const subs = ix.executor.type === 'slurm' ? ix.executor.submissions : [];
      ix.executor = { type: 'slurm', submissions: [...subs, submission], ...(partition ? { partition } : {}), ...(time ? { time } : {}) };
    });
  } catch (e) {
    throw new Error(`submitted as Slurm job ${jobId}, but could not record it in ${join(dir, SWEEP_FILE)}: ${(e as Error).message}`);
  }
  return { kind: 'submitted', jobId, indices, script: scriptFile, skipped };
}

// The runs of a workspace as the Runs view lists them: every folder under the results dirs, its
// result.json read and classified (never throwing on a bad file), this window's live runs merged
// in, newest first, and the words and markdown the view shows. Pure Node (no vscode import).
//
// A node is a run or a sweep folder (sweep.json, issue 10): one node whose children are its runs,
// in the sweep's order, counted by state ("sweep · 6/9 completed · 1 failed").
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { lockHolder as runLockHolder } from '../engine/runLock';
import { parseSweepIndexText } from '../engine/sweep/sweepIndex';
import type { NormalisedExperiment } from '../protocol/experiment';
import type { RunError, RunResult } from '../protocol/result';
import type { RunState } from '../protocol/runState';
import { SWEEP_FILE, type SweepIndex, type SweepRunState, type SweepValue } from '../protocol/sweep';
import { formatDuration, formatPercent, formatPoints, phaseLabels, phasesOf, runProgress, scenarioName, scenarioOf, strategyTitle, taskLabels } from '../protocol/format';
import { parseRunResult } from './resultFile';

export const RESULT_FILE_NAME = 'result.json';
/** The problem of a run folder without a result file (nothing to open). */
export const NO_RESULT_FILE = 'no result.json in the run folder';

/**
 * What a run folder says happened. `incomplete`: no result.json, or one that is not valid JSON (a
 * torn write); `unreadable`: valid JSON that is not a result this version reads (newer format,
 * another file); `stale`: the result says running but no trainer writes it (no live run in this
 * window, and the folder's run.lock is gone or its process dead: interrupted before it could mark
 * the result). A result that says running while another process holds the lock stays `running`.
 */
export type RunEntryStatus = 'completed' | 'cancelled' | 'failed' | 'running' | 'queued' | 'incomplete' | 'unreadable' | 'stale';

/** A run this window's RunManager holds (queued or running), as the index needs it. */
export interface LiveRunInfo {
  id: string;
  runDir: string;
  phase: 'queued' | 'running';
  cancelRequested: boolean;
  experiment: NormalisedExperiment;
  experimentFile: string;
  /** The host's fold of the run's events (null until the trainer's first event). */
  state: RunState | null;
  createdAt: number;
}

export interface RunEntry {
  kind: 'run';
  /** Absolute run folder: the node's identity. */
  dir: string;
  folderName: string;
  resultFile: string;
  status: RunEntryStatus;
  /** The result on disk (upgraded to the current format), or the live fold of a running run. */
  result: RunResult | null;
  /** The experiment's name, or the folder's name when no result says it. */
  name: string;
  /** Start time (ms since the epoch): the result's, else the folder name's, else the folder's mtime. */
  startedAt: number | null;
  /** Why there is no usable result (incomplete, unreadable). */
  problem?: string;
  /** A failed run's error. */
  error?: RunError;
  /** Set while this window's RunManager runs or queues it. */
  live?: { id: string; cancelRequested: boolean; progress: number; detail: string };
  /** A running result whose folder lock another live process holds (another window, the CLI). */
  elsewhere?: { pid: number; hostname: string };
  /** Set for a run of a sweep: where it sits in the sweep. */
  sweep?: { dir: string; index: number; params: Record<string, SweepValue> };
  /** What the cluster says about a sweep run that has no result yet (a Slurm array task). */
  cluster?: ClusterTaskState;
}

/** A Slurm array task's state as the Runs view shows it (from squeue/sacct via cli/slurm.ts). */
export interface ClusterTaskState {
  state: 'pending' | 'running' | 'failed' | 'cancelled' | 'completed';
  /** The scheduler's words ("PENDING (Resources)", "FAILED exit 1:0"). */
  detail?: string;
  /** The task's log file, when known. */
  log?: string;
}

/** A sweep folder: its index and its runs (children of its node). */
export interface SweepEntry {
  kind: 'sweep';
  dir: string;
  folderName: string;
  /** sweep.json's name, or the folder's when it cannot be read. */
  name: string;
  index: SweepIndex | null;
  /** Why sweep.json cannot be used. */
  problem?: string;
  startedAt: number | null;
  /** In the sweep's order (the array index). */
  runs: RunEntry[];
}

export type IndexNode = RunEntry | SweepEntry;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** "20261129-233512-name" -> that local time (the run folder's timestamp, runFolder.ts). */
export function folderTimestamp(folderName: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-|$)/.exec(folderName);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const t = new Date(y, mo - 1, d, h, mi, s).getTime();
  return Number.isNaN(t) ? null : t;
}

/** Reads and classifies one result.json's text; never throws. */
export function classifyResultText(text: string | null): Pick<RunEntry, 'status' | 'result' | 'problem' | 'error'> {
  if (text === null) return { status: 'incomplete', result: null, problem: NO_RESULT_FILE };
  if (!text.trim()) return { status: 'incomplete', result: null, problem: 'result.json is empty' };
  try {
    JSON.parse(text);
  } catch (e) {
    return { status: 'incomplete', result: null, problem: `result.json is not valid JSON (${(e as Error).message}): it was cut off while being written` };
  }
  let parsed: ReturnType<typeof parseRunResult>;
  try {
    parsed = parseRunResult(text);
  } catch (e) {
    return { status: 'unreadable', result: null, problem: `result.json cannot be read: ${(e as Error).message}` };
  }
  if (!parsed.ok) return { status: 'unreadable', result: null, problem: parsed.error };
  const result = parsed.result;
  const error = isObject(result.error) && typeof result.error.message === 'string' ? result.error : undefined;
  return { status: result.status, result, ...(result.status === 'failed' ? { error: error ?? { phase: 'trainer', message: 'the run failed without an error message' } } : {}) };
}

function startTime(result: RunResult | null, folderName: string, mtimeMs: number | null): number | null {
  const fromResult = typeof result?.timing?.startedAt === 'string' ? Date.parse(result.timing.startedAt) : NaN;
  if (Number.isFinite(fromResult)) return fromResult;
  return folderTimestamp(folderName) ?? mtimeMs;
}

function entryOf(dir: string, text: string | null, mtimeMs: number | null): RunEntry {
  const folderName = dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
  const c = classifyResultText(text);
  const name = typeof c.result?.experiment?.name === 'string' && c.result.experiment.name ? c.result.experiment.name : folderName;
  return { kind: 'run', dir, folderName, resultFile: join(dir, RESULT_FILE_NAME), name, startedAt: startTime(c.result, folderName, mtimeMs), ...c };
}

/** Newest first; ties (and runs without a time) by folder name, newest name first. */
export function sortEntries<T extends Pick<RunEntry, 'startedAt' | 'folderName'>>(entries: T[]): T[] {
  return entries.sort((a, b) => (b.startedAt ?? -Infinity) - (a.startedAt ?? -Infinity) || (a.folderName < b.folderName ? 1 : a.folderName > b.folderName ? -1 : 0));
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  ino: number;
  entry: RunEntry;
}

/**
 * Scans results dirs. Unchanged result files (same mtime, size and inode) are not read again, so a
 * refresh while a run streams costs a readdir and a stat per run.
 */
export class RunIndex {
  private cache = new Map<string, CachedFile>();

  /** Every run folder under `resultsDirs` (missing dirs are empty), newest first. */
  async scan(resultsDirs: readonly string[]): Promise<IndexNode[]> {
    const seen = new Set<string>();
    const entries: IndexNode[] = [];
    for (const resultsDir of [...new Set(resultsDirs.map((d) => resolve(d)))]) {
      let dirents: Dirent[];
      try {
        dirents = await readdir(resultsDir, { withFileTypes: true });
      } catch {
        continue; // no runs yet (or not readable): nothing to list
      }
      for (const d of dirents) {
        // Hidden names are temp files and folders, never runs.
        if (!d.isDirectory() || d.name.startsWith('.')) continue;
        const dir = join(resultsDir, d.name);
        const sweepText = await readFile(join(dir, SWEEP_FILE), 'utf8').catch(() => null);
        if (sweepText === null) {
          seen.add(dir);
          entries.push(await this.readRunFolder(dir));
          continue;
        }
        const sweep = await this.readSweepFolder(dir, sweepText);
        for (const r of sweep.runs) seen.add(r.dir);
        entries.push(sweep);
      }
    }
    for (const key of this.cache.keys()) if (!seen.has(key)) this.cache.delete(key);
    return sortEntries(entries);
  }

  /** A sweep folder: its sweep.json and each run's folder; never throws. */
  async readSweepFolder(dir: string, text?: string): Promise<SweepEntry> {
    const folderName = dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
    text ??= await readFile(join(dir, SWEEP_FILE), 'utf8').catch((e: Error) => `\u0000${e.message}`);
    const parsed = parseSweepIndex(text);
    if (!parsed.ok) {
      const mtime = await stat(dir).then((s) => s.mtimeMs, () => null);
      return { kind: 'sweep', dir, folderName, name: folderName, index: null, problem: parsed.error, startedAt: folderTimestamp(folderName) ?? mtime, runs: [] };
    }
    const index = parsed.index;
    const runs: RunEntry[] = [];
    for (const r of index.runs) {
      const entry = await this.readRunFolder(join(dir, r.folder));
      runs.push({ ...entry, name: sweepRunLabel(r.params, r.index), sweep: { dir, index: r.index, params: r.params } });
    }
    const created = Date.parse(index.createdAt);
    return { kind: 'sweep', dir, folderName, name: index.name || folderName, index, startedAt: Number.isFinite(created) ? created : folderTimestamp(folderName), runs };
  }

  /** One run folder; never throws. */
  async readRunFolder(dir: string): Promise<RunEntry> {
    const file = join(dir, RESULT_FILE_NAME);
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(file);
    } catch {
      this.cache.delete(dir);
      const dirMtime = await stat(dir).then((s) => s.mtimeMs, () => null);
      return entryOf(dir, null, dirMtime);
    }
    const hit = this.cache.get(dir);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size && hit.ino === st.ino) return { ...hit.entry };
    let text: string | null;
    try {
      text = st.isFile() ? await readFile(file, 'utf8') : null;
    } catch {
      text = null;
    }
    const entry = entryOf(dir, text, st.mtimeMs);
    if (text === null && st.isFile()) entry.problem = 'result.json cannot be read (permissions?)';
    this.cache.set(dir, { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, entry });
    // Who writes a running result can change without the file changing: asked on every scan.
    return entry.status === 'running' ? { ...entry, elsewhere: await lockHolder(dir) } : { ...entry };
  }
}

/** The live process holding `<dir>/run.lock` (engine/runLock.ts), if any; a lock from another machine counts as held. */
export async function lockHolder(dir: string): Promise<{ pid: number; hostname: string } | undefined> {
  const holder = runLockHolder(dir);
  return holder && holder !== 'unreadable' ? { pid: holder.pid, hostname: holder.hostname } : undefined;
}

const samePath = (a: string, b: string) => resolve(a) === resolve(b);

/** sweep.json's text as an index, checked as far as the view relies on it; never throws. */
export function parseSweepIndex(text: string): { ok: true; index: SweepIndex } | { ok: false; error: string } {
  if (text.startsWith('\u0000')) return { ok: false, error: `sweep.json cannot be read: ${text.slice(1)}` };
  try {
    return { ok: true, index: parseSweepIndexText(text, SWEEP_FILE) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** A sweep run's label: its swept values ("strategy.lambda=1000 · seed 2"), or "run <index>". */
export function sweepRunLabel(params: Record<string, SweepValue>, index: number): string {
  const parts = Object.entries(params).map(([path, v]) => (path === 'seed' ? `seed ${String(v)}` : `${path}=${typeof v === 'string' ? v : JSON.stringify(v)}`));
  return parts.length ? parts.join(' · ') : `run ${index}`;
}

/**
 * The disk's entries with this window's live runs folded in: a live run's status and numbers come
 * from the host (it knows before the disk does), a run on disk that says running without a live
 * trainer is `stale`, and a live run whose folder the scan did not see is listed anyway. Runs of a
 * sweep stay under their sweep.
 */
export function withLiveRuns(entries: readonly IndexNode[], live: readonly LiveRunInfo[]): IndexNode[] {
  const out: IndexNode[] = [];
  const used = new Set<LiveRunInfo>();
  const merge = (e: RunEntry): RunEntry => {
    const run = live.find((r) => !used.has(r) && samePath(r.runDir, e.dir));
    if (!run) return e.status === 'running' && !e.elsewhere ? { ...e, status: 'stale' } : e;
    used.add(run);
    const merged = liveEntry(run, e);
    return e.sweep ? { ...merged, name: e.name, sweep: e.sweep } : merged;
  };
  for (const e of entries) out.push(e.kind === 'sweep' ? { ...e, runs: e.runs.map(merge) } : merge(e));
  const sweepDirs = entries.filter((e) => e.kind === 'sweep').map((e) => resolve(e.dir));
  for (const run of live) {
    if (used.has(run)) continue;
    // A run of a sweep whose index does not list it (yet) is not a run of its own.
    const dir = resolve(run.runDir);
    if (sweepDirs.some((s) => dir.startsWith(s + '/') || dir.startsWith(s + '\\'))) continue;
    out.push(liveEntry(run, null));
  }
  return sortEntries(out);
}

/** Every run of the nodes: a sweep's runs, and runs of their own. */
export function allRuns(nodes: readonly IndexNode[]): RunEntry[] {
  return nodes.flatMap((n) => (n.kind === 'sweep' ? n.runs : [n]));
}

/** The cluster's states of a sweep's array tasks folded into its runs that have no final result. */
export function withClusterStates(sweep: SweepEntry, states: ReadonlyMap<number, ClusterTaskState>): SweepEntry {
  return {
    ...sweep,
    runs: sweep.runs.map((r) => {
      const c = r.sweep ? states.get(r.sweep.index) : undefined;
      // A result on disk (final, or written by the running task) says more than the scheduler.
      if (!c || r.live || ['completed', 'cancelled', 'failed', 'running'].includes(r.status)) return r;
      return { ...r, cluster: c };
    }),
  };
}

/** A row of cli/slurm.ts slurmSweepStatus, as far as the view reads it. */
export interface SlurmStatusRow {
  index: number;
  state: SweepRunState;
  jobId?: string;
  slurmState?: string;
  log?: string;
  message?: string;
}

/**
 * The cluster's rows as task states by array index: "17_3 FAILED: why" as the detail, the task's
 * log; a run never submitted is left out (nothing to say), one Slurm lost track of counts as failed.
 */
export function clusterTaskStates(rows: readonly SlurmStatusRow[]): Map<number, ClusterTaskState> {
  const out = new Map<number, ClusterTaskState>();
  for (const r of rows) {
    if (r.state === 'missing' && !r.jobId) continue;
    const state: ClusterTaskState['state'] = r.state === 'missing' ? 'failed' : r.state;
    const task = r.jobId ? `${r.jobId}_${r.index}${r.slurmState ? ` ${r.slurmState}` : ''}` : '';
    const detail = [task, r.message ?? ''].filter(Boolean).join(': ');
    out.set(r.index, { state, ...(detail ? { detail } : {}), ...(r.log ? { log: r.log } : {}) });
  }
  return out;
}

// ---- sweeps: states and counts ----

/** What one run of a sweep is, for the sweep's counts (and what Resume skips: only `completed`). */
export function sweepRunState(e: RunEntry): SweepRunState {
  switch (e.status) {
    case 'completed':
    case 'cancelled':
    case 'failed':
      return e.status;
    case 'running':
      return 'running';
    case 'queued':
      return 'pending';
    case 'stale':
    case 'unreadable':
      return 'failed';
    default:
      if (e.cluster) return e.cluster.state === 'completed' ? 'missing' : e.cluster.state;
      // Nothing on disk: a result.json that is there but cut off is a run that is writing or died.
      return e.problem === NO_RESULT_FILE ? 'missing' : 'failed';
  }
}

export type SweepCounts = Record<SweepRunState, number> & { total: number };

export function sweepCounts(e: SweepEntry): SweepCounts {
  const counts: SweepCounts = { total: e.index?.runs.length ?? e.runs.length, pending: 0, running: 0, completed: 0, cancelled: 0, failed: 0, missing: 0 };
  for (const r of e.runs) counts[sweepRunState(r)]++;
  return counts;
}

/** The sweep node's status, for its icon: running while any run is, else the worst outcome. */
export function sweepStatus(e: SweepEntry): RunEntryStatus {
  if (!e.index) return 'unreadable';
  const c = sweepCounts(e);
  if (c.running) return 'running';
  if (c.pending) return 'queued';
  if (c.failed) return 'failed';
  if (c.completed === c.total) return 'completed';
  if (c.cancelled) return 'cancelled';
  return 'incomplete';
}

/** "sweep · 6/9 completed · 1 failed · 2 running · 29 Nov 23:35". */
export function describeSweep(e: SweepEntry, now = new Date()): string {
  if (!e.index) return `sweep · ${e.problem ?? 'sweep.json cannot be read'}`;
  const c = sweepCounts(e);
  const parts = ['sweep', `${c.completed}/${c.total} completed`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.cancelled) parts.push(`${c.cancelled} cancelled`);
  if (c.running) parts.push(`${c.running} running`);
  if (c.pending) parts.push(`${c.pending} pending`);
  if (c.missing) parts.push(`${c.missing} not started`);
  if (e.index.executor?.type === 'slurm') parts.push('Slurm');
  const time = shortTime(e.startedAt, now);
  if (time) parts.push(time);
  return parts.join(' · ');
}

/** The sweep's tooltip: what is swept, how its runs stand, where it is. */
export function sweepTooltipMarkdown(e: SweepEntry, relativeDir?: string): string {
  const blocks = [`**${escapeMarkdown(e.name)}** — sweep`];
  if (!e.index) blocks.push(`**Cannot read the sweep:** ${escapeMarkdown(e.problem ?? 'unknown')}`);
  else {
    const axes = e.index.axes.map((a) => `- \`${a.path.replace(/`/g, '')}\`: ${escapeMarkdown(a.values.map((v) => JSON.stringify(v)).join(', '))}`);
    if (axes.length) blocks.push(['**Swept**', ...axes].join('\n'));
    blocks.push(escapeMarkdown(describeSweep(e)));
    const failed = e.runs.filter((r) => sweepRunState(r) === 'failed');
    if (failed.length)
      blocks.push(['**Failed**', ...failed.slice(0, 10).map((r) => `- ${escapeMarkdown(r.name)}: ${escapeMarkdown(r.error?.message ?? r.cluster?.detail ?? r.problem ?? statusText(r))}${r.cluster?.log ? ` (log \`${r.cluster.log.replace(/`/g, '')}\`)` : ''}`)].join('\n'));
    const ex = e.index.executor;
    if (ex?.type === 'slurm' && ex.submissions?.length) blocks.push(`Slurm job${ex.submissions.length > 1 ? 's' : ''} ${ex.submissions.map((s) => escapeMarkdown(String(s.jobId))).join(', ')}`);
  }
  blocks.push(`\`${(relativeDir ?? e.dir).replace(/`/g, '')}\``);
  return blocks.join('\n\n');
}

function liveEntry(run: LiveRunInfo, disk: RunEntry | null): RunEntry {
  const folderName = run.runDir.split(/[\\/]/).filter(Boolean).pop() ?? run.runDir;
  const result = run.state?.result ?? disk?.result ?? null;
  const p = runProgress(run.state);
  const started = result ? Date.parse(result.timing?.startedAt) : NaN;
  return {
    kind: 'run',
    dir: run.runDir,
    folderName,
    resultFile: join(run.runDir, RESULT_FILE_NAME),
    status: run.phase,
    result,
    name: run.experiment.name || folderName,
    startedAt: Number.isFinite(started) ? started : (folderTimestamp(folderName) ?? run.createdAt),
    live: { id: run.id, cancelRequested: run.cancelRequested, progress: p.fraction, detail: p.detail },
  };
}

// ---- what the view shows ----

/** ACC and BWT of a result (null where the run has none yet, e.g. one phase has no BWT). */
export function headlineMetrics(result: RunResult | null): { acc: number | null; bwt: number | null } {
  const m = result?.metrics;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return { acc: num(m?.acc), bwt: num(m?.bwt) };
}

/** "ACC 85.0% · BWT -12.3" (what is known). */
export function headlineText(result: RunResult | null): string {
  const { acc, bwt } = headlineMetrics(result);
  const parts: string[] = [];
  if (acc !== null) parts.push(`ACC ${formatPercent(acc)}%`);
  if (bwt !== null) parts.push(`BWT ${formatPoints(bwt, true)}`);
  return parts.join(' · ');
}

/** The status as a word or two: "completed", "running 45%", "cancelling…", "no result (incomplete)". */
export function statusText(e: RunEntry): string {
  switch (e.status) {
    case 'running':
      if (!e.live) return 'running elsewhere';
      if (e.live.cancelRequested) return 'cancelling…';
      return `running ${Math.floor(e.live.progress * 100)}%`;
    case 'queued':
      return e.live?.cancelRequested ? 'cancelling…' : 'queued';
    case 'incomplete':
      if (e.cluster) return e.cluster.state === 'pending' ? 'pending (Slurm)' : e.cluster.state === 'running' ? 'running (Slurm)' : `${e.cluster.state} (Slurm)`;
      if (e.sweep && e.problem === NO_RESULT_FILE) return 'not started';
      return 'no result (incomplete)';
    case 'unreadable':
      return 'unreadable result';
    case 'stale':
      return 'not running (interrupted?)';
    case 'failed':
      return 'failed';
    default:
      return e.status;
  }
}

const oneLine = (s: string, max: number) => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

/** Local "29 Nov 23:35" (the year when it is not this one). */
export function shortTime(ms: number | null, now = new Date()): string {
  if (ms === null) return '';
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  const month = d.toLocaleString('en-GB', { month: 'short' });
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return `${d.getDate()} ${month}${d.getFullYear() !== now.getFullYear() ? ` ${d.getFullYear()}` : ''} ${hm}`;
}

/** The tree item's description: status, headline metrics, strategy, scenario, start time. */
export function describeEntry(e: RunEntry, now = new Date()): string {
  const parts = [statusText(e)];
  if (e.status === 'failed' && e.error) parts[0] = `failed: ${oneLine(e.error.message, 60)}`;
  if (e.cluster?.detail && e.cluster.state !== 'pending') parts[0] = `${parts[0]}: ${oneLine(e.cluster.detail, 60)}`;
  const headline = headlineText(e.result);
  if (headline) parts.push(headline);
  if (e.result?.experiment) parts.push(strategyTitle(e.result.experiment.strategy), scenarioName(scenarioOf(e.result)));
  if (e.status === 'running' && e.live && !e.live.cancelRequested) parts.push(e.live.detail);
  const time = shortTime(e.startedAt, now);
  if (time) parts.push(time);
  return parts.join(' · ');
}

/** Markdown with the text's own characters shown literally (experiment names and messages come from files). */
export function escapeMarkdown(s: string): string {
  // Only mid-line characters: no escaped text starts a line (each block begins with our own words).
  return s.replace(/[\\`*_{}[\]()#|<>~&]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

/** R as a markdown table: rows "after <phase>", columns the tasks, cells in percent. */
export function accuracyMatrixMarkdown(r: RunResult): string {
  const R = Array.isArray(r.accuracyMatrix) ? r.accuracyMatrix : [];
  if (!R.some((row) => Array.isArray(row))) return '';
  const labels = taskLabels(r);
  const rows = phaseLabels(r);
  const lines = [`| R (%) | ${labels.map(escapeMarkdown).join(' | ')} |`, `|---|${labels.map(() => '---:').join('|')}|`];
  R.forEach((row, i) => {
    if (!Array.isArray(row)) return;
    lines.push(`| after ${escapeMarkdown(rows[i] ?? `phase ${i}`)} | ${labels.map((_, j) => formatPercent(row[j])).join(' | ')} |`);
  });
  return lines.join('\n');
}

/** The tooltip: what ran, how it ended, R, the metrics, the error, the notes, where it is. */
export function tooltipMarkdown(e: RunEntry, relativeDir?: string): string {
  const r = e.result;
  const blocks: string[] = [`**${escapeMarkdown(e.name)}** — ${escapeMarkdown(statusText(e))}`];
  if (r?.experiment) {
    const facts = [strategyTitle(r.experiment.strategy), scenarioName(scenarioOf(r)), `seed ${r.experiment.seed}`];
    const took = r.status !== 'running' && typeof r.timing?.totalMs === 'number' && r.timing.totalMs > 0 ? `took ${formatDuration(r.timing.totalMs)}` : '';
    const started = shortTime(e.startedAt);
    blocks.push([...facts, ...(started ? [`started ${started}`] : []), ...(took ? [took] : [])].map(escapeMarkdown).join(' · '));
  }
  if (e.status === 'running' && e.live) blocks.push(`Now: ${escapeMarkdown(e.live.detail)} (${Math.floor(e.live.progress * 100)}%)`);
  if (e.error) blocks.push(`**Error** (${escapeMarkdown(e.error.phase)}): ${escapeMarkdown(e.error.message)}`);
  if (e.problem && !(e.sweep && e.problem === NO_RESULT_FILE && !e.cluster)) blocks.push(`**No result:** ${escapeMarkdown(e.problem)}`);
  if (e.sweep && e.problem === NO_RESULT_FILE && !e.cluster) blocks.push('Not started yet (or not resumed): this run of the sweep has no result.');
  if (e.cluster) blocks.push(`**Slurm:** ${escapeMarkdown(e.cluster.state)}${e.cluster.detail ? ` — ${escapeMarkdown(e.cluster.detail)}` : ''}${e.cluster.log ? `\n\nLog: \`${e.cluster.log.replace(/`/g, '')}\`` : ''}`);
  if (e.status === 'stale')
    blocks.push('result.json says the run is running, but no process writes it any more: the run was interrupted before it could mark its result (window closed, process killed).');
  if (e.status === 'running' && !e.live && e.elsewhere)
    blocks.push(`Written by process ${e.elsewhere.pid} on ${escapeMarkdown(e.elsewhere.hostname)}: another VS Code window or the CLI runs it; its numbers here update as its result file does.`);
  if (r) {
    const matrix = accuracyMatrixMarkdown(r);
    if (matrix) blocks.push(matrix);
    const m = r.metrics;
    if (m) {
      const onePhase = phasesOf(r).length <= 1;
      const metrics = [`ACC ${formatPercent(m.acc)}%`];
      if (!onePhase) metrics.push(`BWT ${formatPoints(m.bwt, true)} pts`, `FWT ${formatPoints(m.fwt, true)} pts`, `Forgetting ${formatPoints(m.forgetting, false)} pts`);
      if (m.acc !== null || !onePhase) blocks.push(metrics.join(' · '));
    }
    const notes = Array.isArray(r.notes) ? r.notes.filter((n) => isObject(n) && typeof n.message === 'string') : [];
    if (notes.length) blocks.push(['**Notes**', ...notes.map((n) => `- ${escapeMarkdown(n.message)}${n.field ? ` (\`${n.field.replace(/`/g, '')}\`)` : ''}`)].join('\n'));
  }
  blocks.push(`\`${(relativeDir ?? e.dir).replace(/`/g, '')}\``);
  return blocks.join('\n\n');
}

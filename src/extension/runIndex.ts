// The runs of a workspace as the Runs view lists them: every folder under the results dirs, its
// result.json read and classified (never throwing on a bad file), this window's live runs merged
// in, newest first, and the words and markdown the view shows. Pure Node (no vscode import).
//
// A node is one run today; a sweep folder (sweep.json, issue 10) becomes one more `kind` with runs
// as children, so everything here switches on `kind`.
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { pidAlive } from '../engine/atomicWrite';
import { RUN_LOCK_FILE } from '../engine/runLock';
import type { NormalisedExperiment } from '../protocol/experiment';
import type { RunError, RunResult } from '../protocol/result';
import type { RunState } from '../protocol/runState';
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
}

export type IndexNode = RunEntry;

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
  async scan(resultsDirs: readonly string[]): Promise<RunEntry[]> {
    const seen = new Set<string>();
    const entries: RunEntry[] = [];
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
        seen.add(dir);
        entries.push(await this.readRunFolder(dir));
      }
    }
    for (const key of this.cache.keys()) if (!seen.has(key)) this.cache.delete(key);
    return sortEntries(entries);
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

/** The live process holding `<dir>/run.lock` (engine/atomicWrite.ts), if any; a lock from another machine counts as held. */
export async function lockHolder(dir: string): Promise<{ pid: number; hostname: string } | undefined> {
  try {
    const v = JSON.parse(await readFile(join(dir, RUN_LOCK_FILE), 'utf8')) as { pid?: unknown; hostname?: unknown };
    if (typeof v.pid !== 'number' || typeof v.hostname !== 'string') return undefined;
    return v.hostname !== hostname() || pidAlive(v.pid) ? { pid: v.pid, hostname: v.hostname } : undefined;
  } catch {
    return undefined;
  }
}

const samePath = (a: string, b: string) => resolve(a) === resolve(b);

/**
 * The disk's entries with this window's live runs folded in: a live run's status and numbers come
 * from the host (it knows before the disk does), a run on disk that says running without a live
 * trainer is `stale`, and a live run whose folder the scan did not see is listed anyway.
 */
export function withLiveRuns(entries: readonly RunEntry[], live: readonly LiveRunInfo[]): RunEntry[] {
  const out: RunEntry[] = [];
  const used = new Set<LiveRunInfo>();
  for (const e of entries) {
    const run = live.find((r) => !used.has(r) && samePath(r.runDir, e.dir));
    if (run) {
      used.add(run);
      out.push(liveEntry(run, e));
    } else out.push(e.status === 'running' && !e.elsewhere ? { ...e, status: 'stale' } : e);
  }
  for (const run of live) if (!used.has(run)) out.push(liveEntry(run, null));
  return sortEntries(out);
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
  if (e.problem) blocks.push(`**No result:** ${escapeMarkdown(e.problem)}`);
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

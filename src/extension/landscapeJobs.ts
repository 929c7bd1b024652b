// The run panel's landscapes, without VS Code: the planes saved in the run folder (landscape-*.json
// beside result.json), which one the panel shows, and the landscape-only job that computes a new one
// from the weights the run kept (a forked trainer, trainerJob.ts) with its progress forwarded and a
// cancel. One job per panel; the host part (trust, settings, the trainer's entry) comes in `host`,
// so test/unit/landscapeJobs.test.ts drives it with a real trainer and a real run folder.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RunResult, LandscapeResult } from '../protocol/result';
import type { FromLandscapeJobMessage, LandscapeRequest } from '../protocol/trainer';
import { LANDSCAPE_FILE, type FromWebviewMessage, type LandscapeJobMessage, type LandscapeSecondAxis, type ToWebviewMessage } from '../protocol/webview';
import type { TrainerJob } from './trainerJob';

export type LandscapeRequestMessage = Extract<FromWebviewMessage, { type: 'computeLandscape' | 'cancelLandscape' | 'showLandscape' }>;
type JobMessage = Extract<FromLandscapeJobMessage, { type: 'landscapeEvent' }>;

/** A saved landscape larger than this is not read into the panel (a 201 x 201 grid of ten tasks is ~15 MB). */
const MAX_LANDSCAPE_BYTES = 64 * 1024 * 1024;
/** The grace a job gets to stop when its panel closes. */
const DISPOSE_GRACE_MS = 2_000;

export interface PanelLandscapeHost {
  post(m: ToWebviewMessage): void;
  /** The run's result as the panel shows it (undefined while there is none). */
  result(): RunResult | undefined;
  /** Its result.json (the run folder is its folder). */
  resultFile(): string | undefined;
  /** Why no job may start here (Restricted Mode), or undefined when one may. */
  refusal(): string | undefined;
  /** Starts the trainer job (trainerJob.ts startTrainerJob with the extension's trainer entry). */
  start(request: LandscapeRequest, onMessage: (m: JobMessage) => void): TrainerJob;
  /** The continualWorkbench.dataDir setting for this run. */
  dataDir?(): string | undefined;
  log(line: string): void;
  /** Called once when the panel closes (the host's own subscriptions). */
  dispose?(): void;
}

/** The landscape a panel shows last, by run folder: a panel reopened in this window shows it again. */
const chosen = new Map<string, string | null>();

/** The saved landscapes of a run folder, newest first (basenames). */
export function savedLandscapes(runDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(runDir).filter((n) => LANDSCAPE_FILE.test(n));
  } catch {
    return [];
  }
  const mtime = (n: string) => {
    try {
      return statSync(join(runDir, n)).mtimeMs;
    } catch {
      return 0;
    }
  };
  return names
    .map((n) => ({ n, t: mtime(n) }))
    .sort((a, b) => b.t - a.t || a.n.localeCompare(b.n))
    .map((x) => x.n);
}

/** A saved landscape file, read and checked for the shape the panel draws (throws with the reason). */
export function readSavedLandscape(file: string): LandscapeResult {
  const size = statSync(file).size;
  if (size > MAX_LANDSCAPE_BYTES) throw new Error(`${basename(file)} is ${Math.round(size / 1e6)} MB, more than the panel reads`);
  const land = JSON.parse(readFileSync(file, 'utf8')) as LandscapeResult;
  const ok =
    typeof land === 'object' &&
    land !== null &&
    Array.isArray(land.optima) &&
    land.optima.length === 2 &&
    Array.isArray(land.alphas) &&
    Array.isArray(land.betas) &&
    Array.isArray(land.grids) &&
    typeof land.line === 'object' &&
    land.line !== null &&
    Array.isArray(land.trajectory);
  if (!ok) throw new Error(`${basename(file)} is not a landscape (no optima, grid or line)`);
  return land;
}

/**
 * Where the job finds the run's data as the run did: the dataDir setting, and the cache the run's
 * tasks were read from (their folder's parent) when they came from a cache or a download.
 */
export function landscapeDataDirs(result: Pick<RunResult, 'tasks'>, dataDir: string | undefined): { dataDir?: string; cacheDir?: string } {
  const cached = result.tasks?.find((t) => (t.source === 'cache' || t.source === 'download') && typeof t.dir === 'string' && t.dir);
  return { ...(dataDir ? { dataDir } : {}), ...(cached ? { cacheDir: dirname(cached.dir) } : {}) };
}

/** Why this run's planes cannot be recomputed (undefined when they can): the phases it kept. */
export function recomputeProblem(result: RunResult | undefined): string | undefined {
  if (!result) return 'there is no result yet';
  if (result.status === 'running') return 'the run has not finished';
  if (!result.weights) return 'this run kept no weights (its experiment has no landscape, or it ended before its first task did)';
  if (result.weights.phases < 2) return `this run kept the end weights of ${result.weights.phases} phase${result.weights.phases === 1 ? '' : 's'}; a plane needs two`;
  return undefined;
}

/** The request's problem against this run's phases (the webview's message only says the indexes are whole numbers). */
export function requestProblem(phases: number, optima: readonly [number, number], axis: LandscapeSecondAxis): string | undefined {
  const bad = (p: number) => !Number.isInteger(p) || p < 0 || p >= phases;
  for (const p of optima) if (bad(p)) return `phase ${p} is not a phase of this run (it kept phases 0 to ${phases - 1})`;
  if (optima[0] === optima[1]) return `the plane needs two different optima, got phase ${optima[0]} twice`;
  if (typeof axis === 'object') {
    if (bad(axis.phase)) return `third point: phase ${axis.phase} is not a phase of this run (it kept phases 0 to ${phases - 1})`;
    if (optima.includes(axis.phase)) return `the third point (phase ${axis.phase}) is one of the two optima: it lies on their line`;
  }
  return undefined;
}

export class PanelLandscapes {
  private job: { handle: TrainerJob; optima: [number, number]; secondAxis: LandscapeSecondAxis } | undefined;
  /** The job's state as last told to the webview, told again when the webview reloads. */
  private jobState: LandscapeJobMessage | undefined;
  private disposed = false;

  constructor(private readonly host: PanelLandscapeHost) {}

  get running(): boolean {
    return this.job !== undefined;
  }

  private runDir(): string | undefined {
    const f = this.host.resultFile();
    return f ? dirname(f) : undefined;
  }

  private post(m: ToWebviewMessage): void {
    if (!this.disposed) this.host.post(m);
  }

  /** The webview (re)loaded: the saved landscapes, the one shown, and the job if one runs. */
  ready(): void {
    this.postList();
    const dir = this.runDir();
    if (!dir) return;
    const shown = this.shown(dir);
    if (shown) this.postShow(dir, shown);
    if (this.jobState) this.post(this.jobState);
  }

  async handle(m: LandscapeRequestMessage): Promise<void> {
    switch (m.type) {
      case 'computeLandscape':
        this.compute(m.optima, m.secondAxis);
        break;
      case 'cancelLandscape':
        this.job?.handle.cancel();
        break;
      case 'showLandscape': {
        const dir = this.runDir();
        if (!dir) return;
        if (m.file === undefined) chosen.set(dir, null);
        else if (this.postShow(dir, m.file)) chosen.set(dir, m.file);
        this.postList();
        break;
      }
    }
  }

  /** Something the list depends on changed (the workspace was trusted): tell the webview again. */
  refresh(): void {
    this.postList();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // A job of a closed panel stops (it writes nothing when cancelled).
    this.job?.handle.cancel(DISPOSE_GRACE_MS);
    this.host.dispose?.();
  }

  /** The landscape to show: the one last chosen in this window, else the run's own (null), else the newest saved. */
  private shown(dir: string): string | null {
    const files = savedLandscapes(dir);
    const last = chosen.get(dir);
    if (last === null) return null;
    if (last && files.includes(last)) return last;
    return this.host.result()?.landscape ? null : (files[0] ?? null);
  }

  private postList(): void {
    const dir = this.runDir();
    // Only the host's own refusal: the webview knows from the result whether the run kept its weights (and when it finishes).
    const problem = this.host.refusal();
    const files = dir ? savedLandscapes(dir) : [];
    this.post({ type: 'landscapeList', files, shown: dir ? this.shown(dir) : null, canCompute: !problem, ...(problem ? { blocked: problem } : {}) });
  }

  /** Sends a saved landscape to draw; false (and an error in the card) when it cannot be read. */
  private postShow(dir: string, file: string): boolean {
    try {
      this.post({ type: 'landscapeShow', file, landscape: readSavedLandscape(join(dir, file)) });
      return true;
    } catch (e) {
      const error = `cannot show ${file}: ${(e as Error).message}`;
      this.host.log(`landscape: ${error}`);
      this.post({ type: 'landscapeJob', state: 'refused', error });
      return false;
    }
  }

  private refuse(error: string): void {
    this.host.log(`landscape job refused: ${error}`);
    // Refusals do not replace a running job's progress in the card.
    this.post({ type: 'landscapeJob', state: 'refused', error });
  }

  private compute(optima: [number, number], secondAxis: LandscapeSecondAxis): void {
    if (this.job) return this.refuse('a landscape is already being computed in this panel: cancel it first');
    const refusal = this.host.refusal();
    if (refusal) return this.refuse(refusal);
    const result = this.host.result();
    const runProblem = recomputeProblem(result);
    if (runProblem) return this.refuse(runProblem);
    const dir = this.runDir();
    if (!dir || !result?.weights) return this.refuse('this panel shows no run folder');
    const problem = requestProblem(result.weights.phases, optima, secondAxis);
    if (problem) return this.refuse(problem);

    const request: LandscapeRequest = {
      type: 'landscape',
      runDir: dir,
      optima,
      secondAxis: typeof secondAxis === 'object' ? { run: dir, phase: secondAxis.phase } : secondAxis,
      ...landscapeDataDirs(result, this.host.dataDir?.()),
    };
    let finished: Extract<JobMessage['event'], { type: 'landscapeJobFinished' }> | undefined;
    const progress = (done: number, total: number, phase: string) => {
      this.jobState = { type: 'landscapeJob', state: 'running', optima, secondAxis, done, total, phase };
      this.post(this.jobState);
    };
    let handle: TrainerJob;
    try {
      handle = this.host.start(request, (m) => {
        const e = m.event;
        if (e.type === 'landscapeProgress') progress(e.done, e.total, e.phase);
        else if (e.type === 'log') this.host.log(`landscape ${optima.join('-')}: ${e.message}`);
        else if (e.type === 'landscapeJobFinished') finished = e;
      });
    } catch (e) {
      return this.refuse(`could not start the landscape job: ${(e as Error).message}`);
    }
    this.job = { handle, optima, secondAxis };
    this.host.log(`landscape job: plane through phases ${optima[0]} and ${optima[1]}, axis ${typeof secondAxis === 'object' ? `phase ${secondAxis.phase}` : secondAxis}, in ${dir}`);
    progress(0, 0, 'starting');
    void handle.done.then((outcome) => {
      this.job = undefined;
      const file = finished?.file ?? outcome.resultFile;
      if (outcome.status === 'completed' && file) {
        const name = basename(file);
        this.host.log(`landscape job ${finished?.reopened ? 'reopened' : 'wrote'} ${file}`);
        chosen.set(dir, name);
        this.jobState = { type: 'landscapeJob', state: 'completed', file: name };
        this.postList();
        this.postShow(dir, name);
      } else if (outcome.status === 'cancelled') {
        this.jobState = { type: 'landscapeJob', state: 'cancelled' };
      } else {
        const error = finished?.error ?? outcome.error ?? 'the landscape job failed';
        this.host.log(`landscape job failed: ${error}`);
        this.jobState = { type: 'landscapeJob', state: 'failed', error };
      }
      this.post(this.jobState);
    });
  }
}

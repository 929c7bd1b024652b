// How a run reads to people, in one place for the CLI, the extension host and the webview: numbers,
// durations, task/phase/strategy/scenario names, the progress line, and whether a run has a
// landscape. Pure: imports only protocol types (no vscode, no Node, no DOM).
import type { BenchmarkName, NormalisedExperiment, Scenario, StrategySpec, TaskSpec } from './experiment';
import type { RunResult, TaskInfo } from './result';
import type { RunState } from './runState';

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

// ---- numbers and durations ----

/** Rounds half away from zero; the tiny nudge absorbs binary noise such as 0.5735 * 1000 = 573.4999…. */
export function roundHalfAway(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return (Math.sign(x) * Math.round(Math.abs(x) * f + 1e-6)) / f;
}

/** A fraction as a percentage, no sign, no unit: 0.989 -> "98.9" (decimals 2: "98.90"). */
export function formatPercent(v: number | null | undefined, decimals = 1): string {
  if (!isNumber(v)) return '—';
  const r = roundHalfAway(v * 100, decimals);
  return (r === 0 ? 0 : r).toFixed(decimals);
}

/** A difference of fractions in percentage points; signed: -0.745 -> "-74.5", 0.012 -> "+1.2". */
export function formatPoints(v: number | null | undefined, signed: boolean, decimals = 1): string {
  if (!isNumber(v)) return '—';
  const r = roundHalfAway(v * 100, decimals);
  if (r === 0) return (0).toFixed(decimals);
  const s = Math.abs(r).toFixed(decimals);
  if (r < 0) return `-${s}`;
  return signed ? `+${s}` : s;
}

/** 0.4 s, 12 s, 3m 05s, 1h 02m; "—" when unknown. */
export function formatDuration(ms: number | null | undefined): string {
  if (!isNumber(ms) || ms < 0) return '—';
  if (ms < 1000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Thousands separators: 225034 -> "225,034". */
export function formatCount(n: number | null | undefined): string {
  if (!isNumber(n)) return '—';
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A loss or other positive quantity with about three significant digits: 0.0671 -> "0.0671", 3.7412 -> "3.74". */
export function formatValue(v: number | null | undefined): string {
  if (!isNumber(v)) return '—';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000 || a < 1e-3) return v.toExponential(2);
  const digits = Math.max(0, 2 - Math.floor(Math.log10(a)));
  return v.toFixed(digits);
}

// ---- names: experiment, scenario, benchmark, strategy ----

/** Name of the experiment for headings and file names. */
export function experimentName(r: Pick<RunResult, 'experiment'>): string {
  return r.experiment?.name || 'Continual experiment';
}

/** The three scenarios of van de Ven & Tolias (2019): display name and one line on what it asks. */
export const SCENARIOS: Readonly<Record<Scenario, { name: string; summary: string }>> = {
  'task-il': { name: 'task-IL', summary: 'task-incremental: the task is given at test time and each task has its own output units (multi-head)' },
  'domain-il': { name: 'domain-IL', summary: 'domain-incremental: one shared head; the task is not given and need not be inferred (the same labels in new domains)' },
  'class-il': { name: 'class-IL', summary: 'class-incremental: one head over every class seen; the task is not given, so the model must tell all classes apart' },
};

export function scenarioName(s: Scenario | undefined): string {
  return (s && SCENARIOS[s]?.name) || s || 'domain-IL';
}

/** The scenario a result was run in (format-1 results: domain-IL). */
export function scenarioOf(r: Pick<RunResult, 'head' | 'experiment'>): Scenario {
  return r.head?.scenario ?? r.experiment?.scenario ?? 'domain-il';
}

const BENCHMARK_NAMES: Readonly<Record<BenchmarkName, string>> = {
  'split-mnist': 'Split-MNIST',
  'split-fashion-mnist': 'Split-Fashion-MNIST',
  'permuted-mnist': 'Permuted-MNIST',
  'rotated-mnist': 'Rotated-MNIST',
};

export function benchmarkName(name: BenchmarkName | string): string {
  return BENCHMARK_NAMES[name as BenchmarkName] ?? name;
}

const STRATEGY_NAMES: Readonly<Record<string, string>> = {
  naive: 'Naive',
  joint: 'Joint',
  cumulative: 'Cumulative',
  l2: 'L2',
  ewc: 'EWC',
  'online-ewc': 'Online EWC',
  si: 'SI',
  mas: 'MAS',
  lwf: 'LwF',
  replay: 'Replay',
  agem: 'A-GEM',
  der: 'DER++',
  icarl: 'iCaRL',
};

/** Hyperparameters the papers write as symbols; they lead the strategy's title (EWC λ=1000). */
const SYMBOLS: Readonly<Record<string, string>> = { lambda: 'λ', gamma: 'γ', xi: 'ξ', alpha: 'α', beta: 'β', temperature: 'T', c: 'c', epsilon: 'ε' };

export function strategyName(name: string): string {
  return STRATEGY_NAMES[name] ?? name;
}

function hyperparameterEntries(spec: StrategySpec): { key: string; text: string; symbol: boolean }[] {
  return Object.entries(spec)
    .filter(([key, v]) => key !== 'name' && (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'))
    .map(([key, v]) => ({ key, text: `${SYMBOLS[key] ?? key}=${String(v)}`, symbol: key in SYMBOLS }));
}

/**
 * "EWC λ=1000", "Online EWC λ=100 γ=0.9", "Replay memorySize=500 selection=reservoir": the name and
 * its main hyperparameters, those the papers write as symbols, else the first two.
 */
export function strategyTitle(spec: StrategySpec | undefined): string {
  if (!spec?.name) return strategyName('naive');
  const entries = hyperparameterEntries(spec);
  const symbols = entries.filter((e) => e.symbol);
  const main = symbols.length ? symbols : entries.slice(0, 2);
  return [strategyName(spec.name), ...main.map((e) => e.text)].join(' ');
}

/** Every hyperparameter as written in the experiment: "lambda = 1000, fisherSamples = 600" (hover text). */
export function strategyDetails(spec: StrategySpec | undefined): string {
  if (!spec) return '';
  return Object.entries(spec)
    .filter(([key]) => key !== 'name')
    .map(([key, v]) => `${key} = ${String(v)}`)
    .join(', ');
}

/** "EWC λ=1000 · class-IL · Split-MNIST": what the run did, in one line. */
export function runSetupTitle(r: Pick<RunResult, 'experiment' | 'head'>): string {
  const parts = [strategyTitle(r.experiment?.strategy), scenarioName(scenarioOf(r))];
  if (r.experiment?.benchmark) parts.push(benchmarkName(r.experiment.benchmark.name));
  return parts.join(' · ');
}

// ---- tasks and phases ----

/** Number of tasks: known from the experiment before the data is ready. */
export function taskCount(r: Pick<RunResult, 'tasks' | 'experiment'>): number {
  return Math.max(r.tasks?.length ?? 0, r.experiment?.tasks?.length ?? 0);
}

const sameName = (a: string, b: string | undefined) => b !== undefined && a.toLowerCase().replace(/[^a-z0-9]/g, '') === b.toLowerCase().replace(/[^a-z0-9]/g, '');
const isIdentityOrder = (ids: readonly number[]) => ids.every((c, k) => c === k);

/**
 * A task's display name: its own label, unless that is only the dataset's name and the task is a
 * part of the dataset (a class subset: "2/3"; a rotation: "45°"; a permutation: "perm 3"). When the
 * tasks come from several datasets the dataset's name stays in front ("MNIST 0/1").
 */
function taskLabel(info: TaskInfo | undefined, spec: TaskSpec | undefined, j: number, mixedDatasets: boolean): string {
  const given = info?.label || spec?.label;
  const dataset = info?.dataset ?? spec?.dataset;
  const base = given || dataset || `task ${j}`;
  if (given && !sameName(given, dataset)) return given;
  const parts: string[] = [];
  const classIds = spec?.classes ?? (info?.classIds && !isIdentityOrder(info.classIds) ? info.classIds : undefined);
  if (classIds?.length) parts.push(classIds.join('/'));
  const rotation = info?.rotation ?? spec?.rotation;
  if (rotation !== undefined) parts.push(`${rotation}°`);
  const permutation = info?.permutation ?? spec?.permutation;
  if (permutation !== undefined) parts.push(`perm ${permutation}`);
  if (!parts.length) return base;
  return mixedDatasets ? `${base} ${parts.join(' ')}` : parts.join(' ');
}

/** Display name of every task (column of R), known before the data is ready. */
export function taskLabels(r: Pick<RunResult, 'tasks' | 'experiment'>): string[] {
  const T = taskCount(r);
  const source = (j: number) => `${r.experiment?.tasks?.[j]?.dataset ?? r.tasks?.[j]?.dataset}|${r.experiment?.tasks?.[j]?.path ?? ''}`;
  const datasets = new Set(Array.from({ length: T }, (_, j) => source(j)));
  return Array.from({ length: T }, (_, j) => taskLabel(r.tasks?.[j], r.experiment?.tasks?.[j], j, datasets.size > 1));
}

/** The tasks trained in each phase (row of R); before the data is ready, one task per phase. */
export function phasesOf(r: Pick<RunResult, 'tasks' | 'experiment' | 'phases'>): number[][] {
  if (Array.isArray(r.phases) && r.phases.length) return r.phases;
  return Array.from({ length: taskCount(r) }, (_, i) => [i]);
}

/** Phases are not one task each (joint or cumulative training): rows of R are phases, not tasks. */
export function hasMultiTaskPhases(r: Pick<RunResult, 'tasks' | 'experiment' | 'phases'>): boolean {
  return phasesOf(r).some((p) => p.length !== 1);
}

function phaseLabel(tasks: readonly number[], labels: readonly string[], phaseCount: number): string {
  if (tasks.length === 1) return labels[tasks[0]] ?? `task ${tasks[0]}`;
  if (phaseCount === 1 && tasks.length === labels.length && labels.length > 1) return 'joint (all tasks)';
  const joined = tasks.map((t) => labels[t] ?? `task ${t}`).join(' + ');
  if (tasks.length <= 3 && joined.length <= 28) return joined;
  const contiguous = tasks.every((t, k) => k === 0 || t === tasks[k - 1] + 1);
  return contiguous ? `tasks ${tasks[0]}–${tasks[tasks.length - 1]}` : `tasks ${tasks.join(', ')}`;
}

/** What each phase trained: "0/1" (one task), "joint (all tasks)", "0/1 + 2/3", "tasks 0–4". Rows read "after <label>". */
export function phaseLabels(r: Pick<RunResult, 'tasks' | 'experiment' | 'phases'>): string[] {
  const labels = taskLabels(r);
  const phases = phasesOf(r);
  return phases.map((tasks) => phaseLabel(tasks, labels, phases.length));
}

/** The last row of R that has arrived (-1: none). */
const lastRow = (R: readonly (readonly number[] | null | undefined)[]) => R.reduce((last, row, i) => (Array.isArray(row) ? i : last), -1);

/**
 * Mean accuracy of row `row` of R (default: the last that arrived) over the tasks trained up to and
 * including that phase: the ACC of the rows so far (joint training trains every task in its one row).
 */
export function averageAccuracy(R: readonly (readonly number[] | null | undefined)[], phases: readonly (readonly number[])[], row = lastRow(R)): number | null {
  const values = R[row];
  if (!values) return null;
  const seen = new Set<number>();
  for (let i = 0; i <= row; i++) for (const t of phases[i] ?? [i]) seen.add(t);
  const accs = [...seen].map((t) => values[t]).filter(isNumber);
  return accs.length ? accs.reduce((a, b) => a + b, 0) / accs.length : null;
}

/** "after 0/1: 0/1 99.1%, 2/3 50.2%": one row of R as a log line. */
export function rowSummary(r: Pick<RunResult, 'tasks' | 'experiment' | 'phases'>, phase: number, accuracy: readonly number[], decimals = 1): string {
  const labels = taskLabels(r);
  const rowLabel = phaseLabels(r)[phase] ?? `phase ${phase}`;
  return `after ${rowLabel}: ${accuracy.map((a, j) => `${labels[j] ?? `task ${j}`} ${formatPercent(a, decimals)}%`).join(', ')}`;
}

// ---- the landscape ----

export type LandscapePlan =
  | { optima: [number, number]; reason: null }
  | { optima: null; reason: string };

/**
 * Whether a run computes a loss landscape, and over which two phase optima; otherwise why not.
 * The runner, the progress bar and the panel all ask this one question here.
 * `phaseCount`: rows of R the run will have (default one per task; joint training has one).
 */
export function landscapePlan(experiment: Pick<NormalisedExperiment, 'landscape' | 'tasks'> | undefined, phaseCount = experiment?.tasks?.length ?? 0): LandscapePlan {
  const tasks = experiment?.tasks?.length ?? 0;
  if (phaseCount < 2) {
    return {
      optima: null,
      reason:
        tasks < 2
          ? 'The landscape needs two tasks (it is the plane through two task optima).'
          : 'The landscape needs two optima, and this strategy trains all tasks in one phase (one optimum).',
    };
  }
  const land = experiment?.landscape;
  if (!land) return { optima: null, reason: 'The landscape is turned off in this experiment ("landscape": false).' };
  const [a, b] = land.optima ?? [0, phaseCount - 1];
  if (a === b) return { optima: null, reason: `landscape.optima names phase ${a} twice: the plane needs two different optima.` };
  if (Math.max(a, b) >= phaseCount) return { optima: null, reason: `landscape.optima [${a}, ${b}] is beyond the ${phaseCount} phases of this run.` };
  return { optima: [a, b], reason: null };
}

// ---- progress ----

/** Share of the progress bar given to training when a loss landscape follows it. */
const TRAINING_SHARE_WITH_LANDSCAPE = 0.8;

export interface RunProgress {
  /** 0..1 over the whole run (training, then the landscape). */
  fraction: number;
  /** Nothing measurable yet (loading data, evaluating, finishing): a bar may show "busy". */
  indeterminate: boolean;
  /** Short: "0/1 1/5 · step 1,234/9,380", "landscape grid 50/441", "loading data". */
  detail: string;
}

const rowsDone = (r: RunResult) => (Array.isArray(r.accuracyMatrix) ? r.accuracyMatrix.filter(Boolean).length : 0);

function trainingFraction(state: RunState, phases: number): number {
  const r = state.result;
  if (rowsDone(r) >= phases) return 1;
  const p = state.progress;
  const total = p?.totalSteps || r.totalSteps;
  if (!total) return 0;
  const step = p ? p.step : (r.curves.at(-1)?.step ?? 0);
  return Math.min(1, Math.max(0, step / total));
}

/** Where a run is, for every progress display (status bar, notification, panel, CLI). */
export function runProgress(state: RunState | null): RunProgress {
  if (!state) return { fraction: 0, indeterminate: true, detail: 'starting' };
  const r = state.result;
  const phases = phasesOf(r).length;
  const landscape = landscapePlan(r.experiment, phases).optima !== null;
  const share = landscape ? TRAINING_SHARE_WITH_LANDSCAPE : 1;
  if (r.status !== 'running') return { fraction: r.status === 'completed' ? 1 : trainingFraction(state, phases) * share, indeterminate: false, detail: r.status };
  if (!r.tasks.length || !r.totalSteps) return { fraction: 0, indeterminate: true, detail: 'loading data' };
  if (rowsDone(r) >= phases) {
    if (!landscape) return { fraction: 1, indeterminate: true, detail: 'finishing' };
    const lp = state.landscapeProgress;
    const lf = lp && lp.total > 0 ? Math.min(1, lp.done / lp.total) : 0;
    const detail = lp ? `landscape ${lp.phase} ${formatCount(lp.done)}/${formatCount(lp.total)}` : r.landscape ? 'writing result' : 'landscape';
    return { fraction: share + (1 - share) * lf, indeterminate: !lp, detail };
  }
  const p = state.progress;
  const phase = p ? p.task : Math.min(rowsDone(r), phases - 1);
  const label = phaseLabels(r)[phase] ?? `phase ${phase}`;
  const step = p ? p.step : (r.taskBoundaries[phase] ?? 0);
  const total = p ? p.totalSteps : r.totalSteps;
  return { fraction: trainingFraction(state, phases) * share, indeterminate: false, detail: `${label} ${phase + 1}/${phases} · step ${formatCount(step)}/${formatCount(total)}` };
}

/** The progress line: where the run is, then epoch, loss, throughput and time left while training. */
export function progressMessage(state: RunState | null): string {
  const parts = [runProgress(state).detail];
  const ev = state?.progress;
  const r = state?.result;
  if (ev && r?.status === 'running' && rowsDone(r) < phasesOf(r).length) {
    const epochs = r.experiment?.training?.iterations === undefined ? r.experiment?.training?.epochs : undefined;
    if (epochs) parts.push(`epoch ${ev.epoch}/${epochs}`);
    if (isNumber(ev.loss)) parts.push(`loss ${formatValue(ev.loss)}`);
    if (ev.imagesPerSecond > 0) parts.push(`${formatCount(ev.imagesPerSecond)} img/s`);
    if (isNumber(ev.etaMs) && ev.etaMs >= 0) parts.push(`ETA ${formatDuration(ev.etaMs)}`);
  }
  return parts.join(' · ');
}

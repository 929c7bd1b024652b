// How a run reads to people, in one place for the CLI, the extension host and the webview: numbers,
// durations, task/phase/strategy/scenario names, the progress line, and whether a run has a
// landscape. Pure: imports only protocol types (no vscode, no Node, no DOM).
import type { BenchmarkName, NormalisedExperiment, Scenario, StrategySpec, TaskSpec } from './experiment';
import type { RunResult, TaskInfo } from './result';
import type { RunState } from './runState';
import type { SweepValue } from './sweep';

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

/** A swept value as tables and axes show it: a whole strategy by its title ("EWC λ=1000"), text as is. */
export function sweepValueLabel(x: SweepValue): string {
  if (typeof x === 'object' && x !== null && !Array.isArray(x) && typeof x.name === 'string') return strategyTitle(x as unknown as StrategySpec);
  return typeof x === 'string' ? x : JSON.stringify(x);
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

// ---- issue 12: the run card, tab titles, the experiment file since the run, time left ----
// (Appended by the panel work; the message shapes at the end belong in protocol/webview.ts.)

/** One setting of a normalised experiment, as the run card lists it and as diffs compare it. */
export interface ExperimentSetting {
  /** Dotted path into the normalised experiment: "seed", "training.learningRate", "tasks.1", "strategy.lambda". */
  key: string;
  group: 'experiment' | 'tasks' | 'model' | 'training' | 'strategy' | 'landscape';
  /** How people say it: "learning rate". */
  label: string;
  /** The value as shown. */
  text: string;
  /** The value in a comparable form (JSON). */
  value: string;
}

/** A setting that differs between two experiments (the run and the defaults, or the run and the file now). */
export interface SettingChange {
  key: string;
  label: string;
  /** The run's value ("—" where the run has no such setting). */
  text: string;
  /** The other side's value ("—" where it has no such setting). */
  other: string;
}

const SETTING_LABELS: Readonly<Record<string, string>> = {
  optimizer: 'optimizer',
  learningRate: 'learning rate',
  batchSize: 'batch size',
  epochs: 'epochs per task',
  iterations: 'steps per task',
  evalEvery: 'curve point every (steps)',
  evalSamples: 'curve test images per task',
  grid: 'grid points per axis',
  samples: 'test images per task',
  alphaRange: 'α range',
  betaRange: 'β range',
  secondAxis: 'second axis',
  checkpointEvery: 'checkpoint every (steps)',
  linePoints: 'points on the line',
  optima: 'optima (phases)',
};

const settingText = (v: unknown): string => (Array.isArray(v) ? `[${v.map(settingText).join(', ')}]` : String(v));

/** "small-cnn", "MLP 400-400", "CNN conv 32-64 · dense 128": the model in a few words. */
export function modelSummary(model: NormalisedExperiment['model'] | undefined): string {
  if (!model) return '—';
  if (model.preset) return model.preset;
  if (model.type === 'mlp') return model.hidden.length ? `MLP ${model.hidden.join('-')}` : 'linear';
  return `CNN conv ${model.conv.map((c) => c.filters).join('-')}${model.dense.length ? ` · dense ${model.dense.join('-')}` : ''}`;
}

/** Every layer of the model: "conv 32 (3×3, pool 2), conv 64 (3×3, pool 2), dense 128". */
function modelDetails(model: NormalisedExperiment['model']): string {
  const layers =
    model.type === 'mlp'
      ? model.hidden.map((u) => `dense ${u}`)
      : [...model.conv.map((c) => `conv ${c.filters} (${c.kernel}×${c.kernel}${c.pool && c.pool > 1 ? `, pool ${c.pool}` : ''})`), ...model.dense.map((u) => `dense ${u}`)];
  const body = layers.length ? layers.join(', ') : 'no hidden layers';
  return model.preset ? `${model.preset}: ${body}` : body;
}

/** "mnist · 600 train / 300 test · classes 0/1 · 45°": one task as written in the experiment. */
function taskSettingText(t: TaskSpec): string {
  const parts = [t.label && !sameName(t.label, t.dataset) ? `${t.label} (${t.dataset})` : t.dataset];
  parts.push(`${t.train === undefined ? 'all' : formatCount(t.train)} train / ${t.test === undefined ? 'all' : formatCount(t.test)} test`);
  if (t.classes?.length) parts.push(`classes ${t.classes.join('/')}`);
  if (t.rotation !== undefined) parts.push(`${t.rotation}°`);
  if (t.permutation !== undefined) parts.push(`permutation ${t.permutation}`);
  if (t.path) parts.push(t.path);
  return parts.join(' · ');
}

/**
 * Every setting of a normalised experiment in reading order (experiment, tasks, model, training,
 * strategy, landscape). The same list feeds the run card and both comparisons (defaults, file now).
 */
export function experimentSettings(ex: NormalisedExperiment): ExperimentSetting[] {
  const out: ExperimentSetting[] = [];
  const add = (key: string, group: ExperimentSetting['group'], label: string, value: unknown, text = settingText(value)) => out.push({ key, group, label, text, value: JSON.stringify(value) ?? 'null' });
  add('name', 'experiment', 'name', ex.name);
  add('seed', 'experiment', 'seed', ex.seed);
  add('scenario', 'experiment', 'scenario', ex.scenario, scenarioName(ex.scenario));
  if (ex.benchmark) {
    const b = ex.benchmark;
    add('benchmark', 'experiment', 'benchmark', b, `${benchmarkName(b.name)}${b.tasks !== undefined ? `, ${b.tasks} tasks` : ''}${b.seed !== undefined ? `, class order seed ${b.seed}` : ''}`);
  }
  (ex.tasks ?? []).forEach((t, i) => add(`tasks.${i}`, 'tasks', `task ${i}`, t, taskSettingText(t)));
  if (ex.model) {
    const { preset: _preset, ...layers } = ex.model;
    add('model', 'model', 'model', layers, modelDetails(ex.model));
  }
  const tr = ex.training;
  if (tr) {
    for (const key of ['optimizer', 'learningRate', 'batchSize', 'epochs', 'iterations', 'evalEvery', 'evalSamples'] as const) {
      // With `iterations`, the engine counts steps and `epochs` plays no part.
      if (key === 'epochs' && tr.iterations !== undefined) continue;
      if (tr[key] === undefined) continue;
      add(`training.${key}`, 'training', SETTING_LABELS[key], tr[key]);
    }
  }
  if (ex.strategy) {
    add('strategy.name', 'strategy', 'strategy', ex.strategy.name, strategyName(ex.strategy.name));
    for (const [key, v] of Object.entries(ex.strategy)) if (key !== 'name') add(`strategy.${key}`, 'strategy', `${strategyName(ex.strategy.name)} ${SYMBOLS[key] ?? key}`, v);
  }
  if (ex.landscape !== undefined) {
    add('landscape', 'landscape', 'loss landscape', ex.landscape !== false, ex.landscape === false ? 'off' : 'on');
    if (ex.landscape) {
      for (const key of ['grid', 'samples', 'alphaRange', 'betaRange', 'secondAxis', 'checkpointEvery', 'linePoints', 'optima'] as const) {
        if (ex.landscape[key] !== undefined) add(`landscape.${key}`, 'landscape', `landscape ${SETTING_LABELS[key]}`, ex.landscape[key]);
      }
    }
  }
  return out;
}

/** Settings present on either side whose values differ, in the order of `a` then the rest of `b`. */
function compareSettings(a: readonly ExperimentSetting[], b: readonly ExperimentSetting[]): SettingChange[] {
  const bByKey = new Map(b.map((s) => [s.key, s]));
  const aKeys = new Set(a.map((s) => s.key));
  const out: SettingChange[] = [];
  for (const s of a) {
    const o = bByKey.get(s.key);
    if (!o || o.value !== s.value) out.push({ key: s.key, label: s.label, text: s.text, other: o?.text ?? '—' });
  }
  for (const o of b) if (!aKeys.has(o.key)) out.push({ key: o.key, label: o.label, text: '—', other: o.text });
  return out;
}

/**
 * The run's settings that differ from the defaults, most telling first. `defaults` is the
 * experiment the host normalised from nothing but the run's tasks: every default of the engine,
 * the default optima for this many tasks, and under `strategy` the default strategy's name with the
 * run's own strategy's default hyperparameters (so "EWC λ 100 (default 1000)" can be said).
 * The task list and the name are the experiment itself, not settings with defaults.
 */
export function settingsDiff(ex: NormalisedExperiment, defaults: NormalisedExperiment): SettingChange[] {
  const own = (s: ExperimentSetting) => s.key !== 'name' && s.key !== 'benchmark' && !s.key.startsWith('tasks.');
  // Defaults the run has no use for (landscape details when it is off, epochs when it counts steps) say nothing.
  return compareSettings(experimentSettings(ex).filter(own), experimentSettings(defaults).filter(own)).filter((c) => c.text !== '—');
}

/** What changed between the recorded experiment and the file's experiment now: "seed 0 → 1". */
export function experimentChanges(recorded: NormalisedExperiment, current: NormalisedExperiment): SettingChange[] {
  return compareSettings(experimentSettings(recorded), experimentSettings(current));
}

/** "seed 0 → 1", "learning rate 0.001 (default)" style line for one change. */
export function settingChangeText(c: SettingChange, arrow = true): string {
  return arrow ? `${c.label} ${c.text} → ${c.other}` : `${c.label} ${c.text} (default ${c.other})`;
}

/** Train/test examples per task in a few words: "600 train / 300 test per task", "full datasets". */
function sizesSummary(tasks: readonly TaskSpec[]): string {
  if (!tasks.length) return '';
  const one = (xs: (number | undefined)[]) => {
    const distinct = [...new Set(xs.map((x) => (x === undefined ? 'all' : formatCount(x))))];
    return distinct.length === 1 ? distinct[0] : distinct.join('/');
  };
  const train = one(tasks.map((t) => t.train));
  const test = one(tasks.map((t) => t.test));
  if (train === 'all' && test === 'all') return 'full datasets';
  return `${train} train / ${test} test per task`;
}

/** The run card's one-line summary: "seed 0 · small-cnn · adam lr 0.001 · batch 64 · 1 epoch · 600 train / 300 test per task". */
export function runSettingsSummary(ex: NormalisedExperiment | undefined): string {
  if (!ex) return '';
  const parts = [`seed ${ex.seed}`, modelSummary(ex.model)];
  const tr = ex.training;
  if (tr) {
    parts.push(`${tr.optimizer} lr ${tr.learningRate}`, `batch ${tr.batchSize}`);
    parts.push(tr.iterations !== undefined ? `${formatCount(tr.iterations)} steps per task` : `${tr.epochs} epoch${tr.epochs === 1 ? '' : 's'}`);
  }
  const sizes = sizesSummary(ex.tasks ?? []);
  if (sizes) parts.push(sizes);
  return parts.join(' · ');
}

/** Local HH:MM of an ISO time or Date ("" when unknown). */
export function clockTime(at: string | number | Date | undefined): string {
  if (at === undefined) return '';
  const d = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(d.getTime())) return '';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** A panel's tab title that tells runs apart: "MNIST then Fashion-MNIST · seed 1 · 14:05". */
export function runTabTitle(ex: Pick<NormalisedExperiment, 'name' | 'seed'>, startedAt: string | number | Date | undefined): string {
  const time = clockTime(startedAt);
  return [ex.name || 'Continual experiment', `seed ${ex.seed}`, ...(time ? [time] : [])].join(' · ');
}

// ---- time left, over every phase of the run ----

/** When the current landscape phase was first seen, and how far it was then (the caller's clock). */
export interface LandscapeClock {
  phase: string;
  at: number;
  done: number;
}

/** Keeps the first sighting of each landscape phase; null when the landscape is not running. */
export function observeLandscapeProgress(prev: LandscapeClock | null, state: RunState | null, now: number): LandscapeClock | null {
  const lp = state?.landscapeProgress;
  if (!lp || state?.result.status !== 'running') return null;
  if (prev && prev.phase === lp.phase && prev.done <= lp.done) return prev;
  return { phase: lp.phase, at: now, done: lp.done };
}

export interface TimeLeft {
  /** Estimated milliseconds until the run ends; null when nothing can be estimated yet. */
  ms: number | null;
  /** Work still to come that `ms` does not include yet (the landscape before anything was timed). */
  unestimated: string | null;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Test images per millisecond of evaluation, measured on the rows and curve points so far (null until a row is in). */
function evaluationRate(r: RunResult): number | null {
  const rows = rowsDone(r);
  if (!rows || !(r.timing?.evalMs > 0) || !r.tasks.length) return null;
  const perRow = sum(r.tasks.map((t) => t.testSize));
  const perCurve = sum(r.tasks.map((t) => Math.min(t.testSize, r.experiment.training?.evalSamples ?? t.testSize)));
  const curvePoints = Math.max(0, r.curves.filter((c) => c.step > 0).length);
  return (rows * perRow + curvePoints * perCurve) / r.timing.evalMs;
}

/** The landscape's cost from the evaluation speed: grid and line points, each over every task's samples, on the worker lanes. */
function landscapeEstimateMs(r: RunResult, rate: number | null): number | null {
  const land = r.experiment.landscape;
  if (!land || rate === null || !(rate > 0)) return null;
  const points = land.grid * land.grid + land.linePoints + 2;
  const images = points * sum(r.tasks.map((t) => Math.min(t.testSize, land.samples)));
  const env = r.environment;
  const lanes = env && env.backend !== 'tensorflow' && env.cpus >= 2 ? env.cpus : 1;
  return images / (rate * lanes);
}

/**
 * Time left over every phase of a running run: the engine's training ETA, the rows of R still to
 * evaluate once training has run out of steps, and the landscape (from its own progress rate once
 * it runs, else estimated from the evaluation speed, else named as still to come).
 */
export function timeLeft(state: RunState | null, now: number, clock: LandscapeClock | null): TimeLeft {
  if (!state || state.result.status !== 'running') return { ms: null, unestimated: null };
  const r = state.result;
  const phases = phasesOf(r).length;
  const hasLandscape = landscapePlan(r.experiment, phases).optima !== null;
  const rate = evaluationRate(r);
  const trainingDone = rowsDone(r) >= phases;
  if (!r.tasks.length || !r.totalSteps) return { ms: null, unestimated: null };
  let ms = 0;
  let known = true;
  if (!trainingDone) {
    const p = state.progress;
    if (p && isNumber(p.etaMs)) ms += Math.max(0, p.etaMs);
    else known = false;
    // The engine's ETA ends with the last step; the last row's evaluation follows it.
    if (p && p.step >= p.totalSteps && rate) ms += sum(r.tasks.map((t) => t.testSize)) / rate;
  }
  if (!hasLandscape || r.landscape) return { ms: known ? ms : null, unestimated: null };
  const lp = state.landscapeProgress;
  if (trainingDone && lp && clock && lp.total > 0) {
    const elapsed = now - clock.at;
    const progressed = lp.done - clock.done;
    if (progressed > 0 && elapsed > 0) return { ms: ms + ((lp.total - lp.done) * elapsed) / progressed, unestimated: null };
  }
  const estimate = landscapeEstimateMs(r, rate);
  if (estimate !== null) {
    const doneShare = lp && lp.total > 0 && lp.phase !== 'plane' ? lp.done / lp.total : 0;
    return { ms: known ? ms + estimate * (1 - doneShare) : null, unestimated: null };
  }
  return { ms: known ? ms : null, unestimated: 'the landscape' };
}

/** "about 1m 20s left", "about 40 s left + the landscape", "" when unknown. */
export function timeLeftText(t: TimeLeft): string {
  if (t.ms === null) return '';
  // Never "0.0 s" while work is left: under a second reads as "less than a second".
  const base = t.ms < 1000 ? 'less than a second left' : `about ${formatDuration(t.ms)} left`;
  return t.unestimated ? `${base} + ${t.unestimated}` : base;
}

/** The progress line with the time left over every phase (not only training's ETA). */
export function progressLine(state: RunState | null, now: number, clock: LandscapeClock | null): string {
  if (!state) return progressMessage(state);
  const withoutEta: RunState = state.progress ? { ...state, progress: { ...state.progress, etaMs: null } } : state;
  const left = timeLeftText(timeLeft(state, now, clock));
  const line = progressMessage(withoutEta);
  return left ? `${line} · ${left}` : line;
}

// ---- host <-> panel: what the host knows beyond the result ----

/** The experiment file compared with the run's recorded experiment (host side, with the engine's normalisation). */
export type ExperimentFileStatus =
  | { state: 'unchanged' }
  | { state: 'changed'; changes: SettingChange[] }
  | { state: 'invalid'; problem: string }
  | { state: 'missing' }
  | { state: 'unknown' };

export interface PanelContext {
  /** The defaults to compare the run's settings with (see settingsDiff); null when unknown (reports). */
  defaults: NormalisedExperiment | null;
  file: ExperimentFileStatus;
}

/** Host -> webview, after each snapshot and whenever the experiment file changes. */
export function panelContextMessage(context: PanelContext): { type: 'panelContext'; context: PanelContext } {
  return { type: 'panelContext', context };
}

const FILE_STATES: readonly string[] = ['unchanged', 'changed', 'invalid', 'missing', 'unknown'];

/** The context in a message, or null when the message is something else (or malformed). */
export function readPanelContextMessage(m: unknown): PanelContext | null {
  if (typeof m !== 'object' || m === null) return null;
  const o = m as { type?: unknown; context?: { defaults?: unknown; file?: { state?: unknown; changes?: unknown; problem?: unknown } } };
  if (o.type !== 'panelContext' || typeof o.context !== 'object' || o.context === null) return null;
  const file = o.context.file;
  if (typeof file !== 'object' || file === null || !FILE_STATES.includes(file.state as string)) return null;
  if (file.state === 'changed' && !Array.isArray(file.changes)) return null;
  const defaults = typeof o.context.defaults === 'object' && o.context.defaults !== null ? (o.context.defaults as NormalisedExperiment) : null;
  return { defaults, file: file as ExperimentFileStatus };
}

/** Webview -> host requests beyond protocol/webview.ts: run the experiment file as it is now. */
export function readPanelRequest(m: unknown): { type: 'runFile' } | null {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'runFile' ? { type: 'runFile' } : null;
}

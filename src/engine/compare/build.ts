// Comparison of runs (protocol/compare.ts) from their results: pure. Runs that differ only in their
// seed form a group summarised as mean ± SEM over its completed members; a group's label says what
// sets it apart from the others; a sweep adds each metric against each swept hyperparameter.
import type { CompareGroup, CompareMetric, CompareRun, Comparison, MeanSemValue, SweepSeries } from '../../protocol/compare';
import type { NormalisedExperiment, StrategySpec } from '../../protocol/experiment';
import type { RunResult } from '../../protocol/result';
import type { SweepAxis, SweepValue } from '../../protocol/sweep';
import { benchmarkName, scenarioName, strategyName, taskLabels } from '../../protocol/format';
import { meanSem } from '../metrics/aggregate';

export const COMPARE_METRICS: readonly CompareMetric[] = ['acc', 'bwt', 'fwt', 'forgetting', 'learningAccuracy'];

export interface ComparisonInput {
  /** Absolute path of the run's result.json. */
  resultFile: string;
  result: RunResult;
  /** The run's sweep parameters (dotted path -> value), seed included, when it came from a sweep. */
  params?: Record<string, SweepValue>;
}

/** Hyperparameters the papers write as symbols (as in protocol/format.ts strategyTitle). */
const SYMBOLS: Readonly<Record<string, string>> = { lambda: 'λ', gamma: 'γ', xi: 'ξ', alpha: 'α', beta: 'β', temperature: 'T', c: 'c', epsilon: 'ε' };
/** Short names of common non-strategy settings in labels. */
const SHORT: Readonly<Record<string, string>> = { 'training.learningRate': 'lr', 'training.batchSize': 'batch', 'training.optimizer': 'optimizer', 'training.epochs': 'epochs', 'training.iterations': 'iterations' };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with object keys sorted: equal values give equal strings. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isRecord(v))
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

const sameValue = (a: unknown, b: unknown) => stableJson(a) === stableJson(b);

/**
 * The experiment with what a seed decides taken out: the seed, the name (a label, not a setting),
 * and a benchmark's expanded tasks (Permuted-MNIST derives its permutations from the seed).
 */
export function experimentWithoutSeed(ex: NormalisedExperiment): Record<string, unknown> {
  const { seed: _seed, name: _name, ...rest } = ex;
  const out: Record<string, unknown> = { ...rest };
  if (ex.benchmark) delete out.tasks;
  return out;
}

function withoutSeed(params: Record<string, SweepValue> | undefined): Record<string, SweepValue> {
  const { seed: _seed, ...rest } = params ?? {};
  return rest;
}

/** Dotted paths to scalar leaves ("strategy.lambda": 1000, "tasks.0.train": 300). */
function flatten(v: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  else if (Array.isArray(v) && v.some((x) => isRecord(x) || Array.isArray(x))) v.forEach((x, i) => flatten(x, `${prefix}.${i}`, out));
  else if (v !== undefined) out.set(prefix, v);
  return out;
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return stableJson(v);
}

/** "λ=1000", "lr=0.01", "class-IL": one differing setting as a label part. */
export function settingText(path: string, v: unknown, ambiguous = false): string {
  if (path === 'scenario' && typeof v === 'string') return scenarioName(v as NormalisedExperiment['scenario']);
  if (path === 'strategy.name' && typeof v === 'string') return strategyName(v);
  if (path === 'benchmark.name' && typeof v === 'string') return benchmarkName(v);
  if (path.startsWith('strategy.')) {
    const key = path.slice('strategy.'.length);
    return `${SYMBOLS[key] ?? key}=${valueText(v)}`;
  }
  const name = SHORT[path] ?? (ambiguous ? path : path.split('.').pop()!);
  return `${name}=${valueText(v)}`;
}

function metricOf(r: RunResult, m: CompareMetric): number | null {
  const v = r.metrics?.[m];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function exclusionReason(r: RunResult): string | undefined {
  if (r.status === 'completed') return undefined;
  if (r.status === 'running') return 'still running (no final result yet)';
  if (r.status === 'cancelled') return 'cancelled';
  return r.error ? `failed (${r.error.phase}): ${r.error.message}` : 'failed';
}

function commonDir(dirs: string[]): string {
  if (!dirs.length) return '';
  const split = dirs.map((d) => d.split(/[\\/]/));
  const first = split[0];
  let k = 0;
  while (k < first.length && split.every((s) => s[k] === first[k])) k++;
  return first.slice(0, k).join('/');
}

const dirOf = (file: string) => file.replace(/[\\/][^\\/]*$/, '') || file;

/** Run ids: folder paths relative to the compared runs' common root (the folder name for one run). */
function runIds(resultFiles: string[]): string[] {
  const dirs = resultFiles.map((f) => dirOf(f).replace(/\\/g, '/'));
  const root = dirs.length > 1 ? commonDir(dirs) : dirOf(dirs[0] ?? '');
  const ids = dirs.map((d) => {
    const rel = root && d.startsWith(`${root}/`) ? d.slice(root.length + 1) : d.split('/').pop() || d;
    return rel || d.split('/').pop() || d;
  });
  // The same folder twice (a result file and its folder both given) keeps both, told apart.
  const seen = new Map<string, number>();
  return ids.map((id) => {
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    return n === 1 ? id : `${id} (${n})`;
  });
}

/** What the tasks are, seed aside (a Permuted-MNIST permutation seed follows the run's seed). */
function taskSignature(r: RunResult): string {
  return stableJson((r.experiment?.tasks ?? []).map((t) => ({ d: t.dataset, p: t.path, c: t.classes, r: t.rotation, perm: t.permutation !== undefined, l: t.label })));
}

/** A setting every task has alike ("tasks.0.train" = "tasks.1.train" = 300) reads as one ("train": 300). */
function collapseTaskSettings(flat: Map<string, unknown>, tasks: number): Map<string, unknown> {
  if (tasks < 1) return flat;
  const keys = new Set([...flat.keys()].map((p) => /^tasks\.0\.(.+)$/.exec(p)?.[1]).filter((k): k is string => !!k));
  for (const key of keys) {
    const values = Array.from({ length: tasks }, (_, j) => flat.get(`tasks.${j}.${key}`));
    if (!values.every((v) => sameValue(v, values[0]))) continue;
    for (let j = 0; j < tasks; j++) flat.delete(`tasks.${j}.${key}`);
    flat.set(`tasks.${key}`, values[0]);
  }
  return flat;
}

/** Labels of the groups: the strategy, then what differs between groups. */
function groupLabels(reps: { experiment: NormalisedExperiment; params: Record<string, SweepValue> }[]): { labels: string[]; params: Record<string, SweepValue>[] } {
  const flats = reps.map((r) => {
    const m = flatten(experimentWithoutSeed(r.experiment), '', new Map());
    // A swept object ("strategy": {...}) reads as its fields, like the experiment's.
    for (const [k, v] of Object.entries(r.params)) flatten(v, k, m);
    return collapseTaskSettings(m, r.experiment.tasks?.length ?? 0);
  });
  const paths = [...new Set(flats.flatMap((f) => [...f.keys()]))];
  const differs = (path: string, among: number[]) => among.some((i) => !sameValue(flats[i].get(path), flats[among[0]].get(path)));
  const all = reps.map((_, i) => i);
  const strategyNames = reps.map((r) => r.experiment.strategy?.name ?? 'naive');
  // A hyperparameter counts where it differs between groups of the same strategy (EWC λ=100 vs λ=1000).
  const hyper = (i: number): string[] => {
    const same = all.filter((j) => strategyNames[j] === strategyNames[i]);
    const spec: StrategySpec = reps[i].experiment.strategy ?? { name: 'naive' };
    const keys = Object.keys(spec).filter((k) => k !== 'name');
    const differing = same.length > 1 ? keys.filter((k) => differs(`strategy.${k}`, same)) : [];
    // Alone with its strategy: its symbol hyperparameters only ("EWC λ=1000", "Replay").
    return differing.length ? differing : keys.filter((k) => k in SYMBOLS);
  };
  const otherPaths = paths.filter((p) => !p.startsWith('strategy.') && differs(p, all));
  const swept = new Set(reps.flatMap((r) => [...flatten(r.params, '', new Map()).keys()]));
  // A setting most groups share is said only where a group departs from it ("Naive lr=0.01");
  // swept settings, and settings without a majority, are said everywhere.
  const usual = new Map<string, string | null>();
  for (const path of otherPaths) {
    const counts = new Map<string, number>();
    for (const f of flats) counts.set(stableJson(f.get(path)), (counts.get(stableJson(f.get(path))) ?? 0) + 1);
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    usual.set(path, !swept.has(path) && ranked[0][1] > (ranked[1]?.[1] ?? 0) ? ranked[0][0] : null);
  }
  const lastSegments = otherPaths.map((p) => p.split('.').pop()!);
  const ambiguous = (p: string) => lastSegments.filter((s) => s === p.split('.').pop()).length > 1;
  const labels: string[] = [];
  const params: Record<string, SweepValue>[] = [];
  reps.forEach((r, i) => {
    const parts = [strategyName(strategyNames[i])];
    const p: Record<string, SweepValue> = { 'strategy.name': strategyNames[i] };
    for (const k of hyper(i)) {
      const v = flats[i].get(`strategy.${k}`);
      parts.push(settingText(`strategy.${k}`, v));
      p[`strategy.${k}`] = v as SweepValue;
    }
    for (const path of otherPaths) {
      const v = flats[i].get(path);
      if (v === undefined || usual.get(path) === stableJson(v)) continue;
      parts.push(settingText(path, v, ambiguous(path)));
      p[path] = v as SweepValue;
    }
    labels.push(parts.join(' '));
    params.push(p);
  });
  // Groups no setting tells apart (e.g. the same experiment from two sweeps) are numbered.
  const count = new Map<string, number>();
  const unique = labels.map((l) => {
    const n = (count.get(l) ?? 0) + 1;
    count.set(l, n);
    return n === 1 ? l : `${l} (${n})`;
  });
  return { labels: unique, params };
}

function compareRun(input: ComparisonInput, id: string): Omit<CompareRun, 'label' | 'group'> {
  const r = input.result;
  const excluded = exclusionReason(r);
  const metrics = Object.fromEntries(COMPARE_METRICS.map((m) => [m, metricOf(r, m)])) as Record<CompareMetric, number | null>;
  return {
    id,
    resultFile: input.resultFile,
    seed: r.experiment?.seed ?? (typeof input.params?.seed === 'number' ? input.params.seed : 0),
    status: r.status,
    ...(excluded ? { excluded } : {}),
    ...(input.params ? { params: input.params } : {}),
    strategy: r.experiment?.strategy?.name ?? 'naive',
    scenario: r.head?.scenario ?? r.experiment?.scenario ?? 'domain-il',
    tasks: taskLabels(r),
    accuracyMatrix: (r.accuracyMatrix ?? []).filter(Array.isArray),
    metrics,
    forgettingPerTask: (r.metrics?.forgettingPerTask ?? []).map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null)),
    curves: (r.curves ?? []).map((p) => ({ step: p.step, accuracy: p.accuracy })),
    taskBoundaries: r.taskBoundaries ?? [],
  };
}

function groupStatistics(runs: CompareRun[], members: number[], label: string, warnings: string[]): Omit<CompareGroup, 'label' | 'params' | 'members'> {
  const included = members.filter((i) => !runs[i].excluded);
  // Excluded members stand as missing values: counted, never averaged in.
  const valuesOf = (pick: (r: CompareRun) => number | null | undefined) => members.map((i) => (runs[i].excluded ? null : pick(runs[i])));
  const metrics = Object.fromEntries(COMPARE_METRICS.map((m) => [m, meanSem(valuesOf((r) => r.metrics[m]))])) as Record<CompareMetric, MeanSemValue>;
  const inc = included.map((i) => runs[i]);
  const T = Math.max(0, ...members.map((i) => runs[i].tasks.length));
  const forgettingPerTask = Array.from({ length: T }, (_, j) => meanSem(valuesOf((r) => r.forgettingPerTask[j])));
  const rows = Math.max(0, ...inc.map((r) => r.accuracyMatrix.length));
  const cols = Math.max(0, ...inc.flatMap((r) => r.accuracyMatrix.map((row) => row.length)));
  const accuracyMatrix = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => meanSem(valuesOf((r) => r.accuracyMatrix[i]?.[j]))));
  // Curves: a group's members share a schedule; where they do not, only the steps they all have.
  const stepSets = inc.map((r) => new Set(r.curves.map((p) => p.step)));
  const steps = inc.length ? [...stepSets[0]].filter((s) => stepSets.every((set) => set.has(s))).sort((a, b) => a - b) : [];
  if (stepSets.some((set) => set.size !== steps.length)) {
    warnings.push(`${label}: its runs' curves were evaluated at different steps; the group's curves show the ${steps.length} step(s) they have in common`);
  }
  const byStep = members.map((i) => new Map(runs[i].curves.map((p) => [p.step, p.accuracy])));
  const curves = steps.map((step) => ({
    step,
    accuracy: Array.from({ length: T }, (_, j) => meanSem(members.map((i, k) => (runs[i].excluded ? null : byStep[k].get(step)?.[j])))),
  }));
  const boundaries = inc.map((r) => stableJson(r.taskBoundaries));
  if (new Set(boundaries).size > 1) warnings.push(`${label}: its runs start their tasks at different steps; the group shows the first run's task boundaries`);
  return { included, metrics, forgettingPerTask, accuracyMatrix, curves, taskBoundaries: (inc[0] ?? runs[members[0]])?.taskBoundaries ?? [] };
}

/** True where the values are positive numbers spanning at least a decade (a log axis). */
export function spansDecade(values: readonly SweepValue[]): boolean {
  if (!values.length || !values.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)) return false;
  const xs = values as number[];
  return Math.max(...xs) / Math.min(...xs) >= 10;
}

/** Each metric against each swept path (seeds averaged); one series per combination of the other axes. */
function sweepSeries(runs: CompareRun[], axes: SweepAxis[]): SweepSeries[] {
  const out: SweepSeries[] = [];
  const swept = runs.filter((r) => r.params);
  for (const axis of axes) {
    const others = axes.filter((a) => a !== axis);
    // Combinations of the other axes' values, in sweep order (last axis fastest).
    let combos: Record<string, SweepValue>[] = [{}];
    for (const o of others) combos = combos.flatMap((c) => o.values.map((v) => ({ ...c, [o.path]: v })));
    const ambiguous = (p: string) => others.filter((o) => o.path.split('.').pop() === p.split('.').pop()).length > 1;
    // The only axis: one series, named after the strategy unless the strategy is what is swept.
    const alone = axis.path === 'strategy.name' || axis.path === 'strategy' ? 'mean over seeds' : strategyName(swept[0]?.strategy ?? 'naive');
    for (const metric of COMPARE_METRICS) {
      const series = combos.map((combo) => ({
        label: others.length ? others.map((o) => settingText(o.path, combo[o.path], ambiguous(o.path))).join(' ') : alone,
        points: axis.values.map((x) => {
          const members = swept.filter((r) => sameValue(r.params![axis.path], x) && others.every((o) => sameValue(r.params![o.path], combo[o.path])));
          return { x, value: meanSem(members.map((r) => (r.excluded ? null : r.metrics[metric]))) };
        }),
      }));
      out.push({ path: axis.path, log: spansDecade(axis.values), metric, series });
    }
  }
  return out;
}

/**
 * The comparison of `inputs` (in the order given). `axes`: the sweep's axes when the runs are one
 * sweep (the seed axis is dropped); `title`: the sweep's name (default "N runs").
 */
export function buildComparison(inputs: ComparisonInput[], axes: SweepAxis[] = [], title?: string): Comparison {
  const warnings: string[] = [];
  const ids = runIds(inputs.map((i) => i.resultFile));
  const base = inputs.map((input, k) => compareRun(input, ids[k]));
  // Group key: the experiment and the sweep parameters, both without the seed.
  const keys = inputs.map((i) => `${stableJson(experimentWithoutSeed(i.result.experiment))}|${stableJson(withoutSeed(i.params))}`);
  const order: string[] = [];
  const membersByKey = new Map<string, number[]>();
  keys.forEach((key, i) => {
    if (!membersByKey.has(key)) {
      membersByKey.set(key, []);
      order.push(key);
    }
    membersByKey.get(key)!.push(i);
  });
  const reps = order.map((key) => {
    const first = membersByKey.get(key)![0];
    return { experiment: inputs[first].result.experiment, params: withoutSeed(inputs[first].params) };
  });
  const { labels, params } = groupLabels(reps);
  const groupOf = new Map(order.map((key, g) => [key, g]));
  const runs: CompareRun[] = base.map((r, i) => {
    const g = groupOf.get(keys[i])!;
    return { ...r, label: `${labels[g]} · seed ${r.seed}`, group: g } as CompareRun;
  });
  const groups: CompareGroup[] = order.map((key, g) => {
    const members = membersByKey.get(key)!;
    return { label: labels[g], params: params[g], members, ...groupStatistics(runs, members, labels[g], warnings) };
  });
  for (const g of groups) {
    const seeds = g.members.map((i) => runs[i].seed);
    const repeated = seeds.filter((s, k) => seeds.indexOf(s) !== k);
    if (repeated.length) warnings.push(`${g.label}: seed ${[...new Set(repeated)].join(', ')} appears more than once (the same run compared twice?); each copy counts in the mean`);
  }
  const signatures = inputs.map((i) => taskSignature(i.result));
  if (new Set(signatures).size > 1) {
    const kinds = [...new Set(signatures)].map((s) => {
      const k = signatures.indexOf(s);
      return `${runs[k].label}: ${runs[k].tasks.join(' → ')}`;
    });
    warnings.push(`the runs do not share their tasks (${kinds.join('; ')}): their accuracy matrices are not comparable cell by cell`);
  }
  const nonSeedAxes = axes.filter((a) => a.path !== 'seed');
  return {
    formatVersion: 1,
    createdAt: new Date().toISOString(),
    title: title ?? `${inputs.length} run${inputs.length === 1 ? '' : 's'}`,
    runs,
    groups,
    axes: nonSeedAxes,
    sweepSeries: sweepSeries(runs, nonSeedAxes),
    unreadable: [],
    warnings,
  };
}

// Reading from disk lives in load.ts; re-exported here, where the agreed API names it.
export { loadComparison } from './load';

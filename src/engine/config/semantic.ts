// Checks the schema cannot express, on the parsed value. They read it defensively: parts that
// failed the schema are skipped (their errors are already reported).
import type { NormalisedExperiment, Scenario } from '../../protocol/experiment';
import { formatCount } from '../../protocol/format';
import { DATASETS, isBuiltinDataset } from '../data/datasets';
import { convOutputSize } from '../models/build';
import { strategyDefinition } from '../strategies/registry';
import { benchmarkInfo, benchmarkTaskCount } from './benchmarks';
import { EXPERIMENT_DEFAULTS } from './defaults';
import { atObject, atPropertyKey, atValue, locate, type Context, type Finding } from './source';
import { isObject, json, orList, type Json } from './wording';
import {
  EFFECTIVE_FLOPS_PER_SECOND,
  HARD_CAP_SECONDS,
  LONG_RUN_SECONDS,
  MEASURED_SMALL_CNN_IMAGES_PER_SECOND,
  MODEL_STATE,
  estimateRun,
  formatBytes,
  formatLargeCount,
  formatSeconds,
  type ResourceEnvironment,
  type RunShape,
} from './resources';

function isCount(v: Json): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

const SCENARIOS: readonly Scenario[] = ['task-il', 'domain-il', 'class-il'];

function isScenario(v: Json): v is Scenario {
  return typeof v === 'string' && (SCENARIOS as readonly string[]).includes(v);
}

/** The tasks the experiment will have, as far as the value tells: explicit or from its benchmark. */
interface TaskView {
  /** How many; undefined when the value does not say (missing or invalid). */
  count: number | undefined;
  /** Datasets of the tasks. */
  datasets: string[];
}

function taskView(value: Record<string, Json>): TaskView {
  if (Array.isArray(value.tasks)) {
    const datasets = value.tasks.map((t) => (isObject(t) ? t.dataset : undefined)).filter((d): d is string => typeof d === 'string');
    return { count: value.tasks.length, datasets };
  }
  const b = value.benchmark;
  const info = isObject(b) ? benchmarkInfo(b.name as string) : undefined;
  if (!isObject(b) || !info) return { count: undefined, datasets: [] };
  const tasksOk = b.tasks === undefined || isCount(b.tasks);
  const anglesOk = b.angles === undefined || (Array.isArray(b.angles) && b.angles.length > 0 && b.angles.every((a) => typeof a === 'number'));
  // Counted without making the tasks (rotated-mnist's angles from a huge `tasks` would be built one by one).
  const given = Array.isArray(b.angles) ? b.angles.length : (b.tasks as number | undefined);
  const count = tasksOk && anglesOk ? (given ?? benchmarkTaskCount({ name: info.name })) : undefined;
  return { count, datasets: [info.dataset] };
}

/** The scenario the experiment runs in, and where it comes from. */
function scenarioOf(value: Record<string, Json>): { scenario: Scenario; from: 'benchmark' | 'scenario' | 'default' } {
  if (isObject(value.benchmark) && isScenario(value.benchmark.scenario)) return { scenario: value.benchmark.scenario, from: 'benchmark' };
  if (isScenario(value.scenario)) return { scenario: value.scenario, from: 'scenario' };
  return { scenario: EXPERIMENT_DEFAULTS.scenario, from: 'default' };
}

export function semanticFindings(ctx: Context, value: Json): Finding[] {
  if (!isObject(value)) return [];
  const view = taskView(value);
  const tooMany = taskCountFindings(ctx, value, view);
  if (tooMany.length) return tooMany; // the later checks make the tasks: not this many
  return [
    ...taskSourceFindings(ctx, value),
    ...trainingFindings(ctx, value),
    ...benchmarkFindings(ctx, value),
    ...classFindings(ctx, value),
    ...landscapeFindings(ctx, value, view),
    ...modelFindings(ctx, value, view),
    ...strategyFindings(ctx, value),
  ];
}

/**
 * Most tasks an experiment may have: every task is evaluated after every phase (R is tasks x
 * tasks), and the validator, the engine and the charts make one entry per task.
 */
export const MAX_TASKS = 1000;

function taskCountFindings(ctx: Context, value: Record<string, Json>, view: TaskView): Finding[] {
  if (view.count === undefined || view.count <= MAX_TASKS) return [];
  const b = value.benchmark;
  const pointer = Array.isArray(value.tasks) ? '/tasks' : isObject(b) && Array.isArray(b.angles) ? '/benchmark/angles' : '/benchmark/tasks';
  const message = `${formatCount(view.count)} tasks: at most ${formatCount(MAX_TASKS)} (every task is evaluated after every task, ${formatLargeCount(view.count * view.count)} evaluations)`;
  return [atObject(ctx, pointer, 'error', message)];
}

/** The key of the two that comes later in the file (the one to point at when both are there). */
function laterKey(ctx: Context, parent: string, a: string, b: string): string {
  const offset = (k: string): number => locate(ctx.root, `${parent}/${k}`).property?.offset ?? -1;
  return offset(b) >= offset(a) ? b : a;
}

/** Tasks come from an explicit list or a benchmark: exactly one. */
function taskSourceFindings(ctx: Context, value: Record<string, Json>): Finding[] {
  const hasTasks = 'tasks' in value;
  const hasBenchmark = 'benchmark' in value;
  if (!hasTasks && !hasBenchmark) {
    const message = `the experiment is missing the required property 'tasks', e.g. [{"dataset": "mnist"}, {"dataset": "fashion-mnist"}], or a 'benchmark' instead, e.g. {"name": "split-mnist", "scenario": "class-il"}`;
    return [{ ...atObject(ctx, '', 'error', message), pointer: '/tasks' }];
  }
  if (hasTasks && hasBenchmark) {
    const key = laterKey(ctx, '', 'tasks', 'benchmark');
    return [atPropertyKey(ctx, `/${key}`, 'error', `the experiment has both 'tasks' and 'benchmark': keep one (a benchmark makes its own task list)`)];
  }
  const b = value.benchmark;
  if (isObject(b) && isScenario(b.scenario) && isScenario(value.scenario) && b.scenario !== value.scenario) {
    return [
      atValue(ctx, '/scenario', 'error', `scenario is ${json(value.scenario)} but benchmark.scenario is ${json(b.scenario)}: with a benchmark, give the scenario in the benchmark only`),
    ];
  }
  return [];
}

function trainingFindings(ctx: Context, value: Record<string, Json>): Finding[] {
  const t = value.training;
  if (!isObject(t) || !('epochs' in t) || !('iterations' in t)) return [];
  const key = laterKey(ctx, '/training', 'epochs', 'iterations');
  return [
    atPropertyKey(
      ctx,
      `/training/${key}`,
      'error',
      `training has both 'epochs' and 'iterations': keep one ('iterations' = optimizer steps per task, as the published protocols count; 'epochs' = passes over each task's data)`,
    ),
  ];
}

function benchmarkFindings(ctx: Context, value: Record<string, Json>): Finding[] {
  const b = value.benchmark;
  if (!isObject(b) || b.name !== 'rotated-mnist' || !isCount(b.tasks) || !Array.isArray(b.angles) || b.tasks === b.angles.length) return [];
  return [
    atValue(
      ctx,
      '/benchmark/tasks',
      'error',
      `benchmark.tasks is ${b.tasks}, but angles lists ${b.angles.length}: the angles make the tasks, so remove 'tasks' (or give ${b.tasks} angles)`,
    ),
  ];
}

/** Classes of a built-in dataset exist (an idx dataset's classes are known at run time). */
function classFindings(ctx: Context, value: Record<string, Json>): Finding[] {
  if (!Array.isArray(value.tasks)) return [];
  const findings: Finding[] = [];
  value.tasks.forEach((t, i) => {
    if (!isObject(t) || typeof t.dataset !== 'string' || !isBuiltinDataset(t.dataset) || !Array.isArray(t.classes)) return;
    const n = DATASETS[t.dataset].classes;
    t.classes.forEach((c, k) => {
      if (typeof c === 'number' && Number.isInteger(c) && c >= n) {
        findings.push(atValue(ctx, `/tasks/${i}/classes/${k}`, 'error', `tasks[${i}].classes[${k}] is ${c}, but ${t.dataset} has classes 0 to ${n - 1}`));
      }
    });
  });
  return findings;
}

/** Whether the strategy trains every task in one phase (joint training). */
function onePhase(value: Record<string, Json>): boolean {
  const s = value.strategy;
  return isObject(s) && typeof s.name === 'string' && strategyDefinition(s.name)?.phases === 'joint';
}

function landscapeFindings(ctx: Context, value: Record<string, Json>, view: TaskView): Finding[] {
  const findings: Finding[] = [];
  const landscape = value.landscape;
  const taskCount = view.count;
  if (isObject(landscape) && taskCount !== undefined && taskCount >= 1) {
    const optima = landscape.optima;
    const validOptima = Array.isArray(optima) && optima.length === 2 && optima.every((o) => Number.isInteger(o) && (o as number) >= 0);
    if (taskCount < 2) {
      findings.push(
        atValue(ctx, optima !== undefined ? '/landscape/optima' : '/landscape', 'warning', 'no landscape will be computed: the experiment has a single task, and the plane needs the optima of two tasks'),
      );
    } else if (onePhase(value)) {
      const name = (value.strategy as Record<string, Json>).name as string;
      findings.push(atValue(ctx, '/landscape', 'warning', `no landscape will be computed: ${name} trains every task in one phase, so there is one optimum, and the plane needs two`));
    } else if (validOptima) {
      const [a, b] = optima as number[];
      const out = [a, b].map((o, i) => ({ o, i })).filter(({ o }) => o >= taskCount);
      for (const { o, i } of out) {
        findings.push(atValue(ctx, `/landscape/optima/${i}`, 'error', `landscape.optima[${i}] is ${o}, but there are only ${taskCount} tasks: use task indexes 0 to ${taskCount - 1}`));
      }
      if (out.length === 0 && a === b) {
        findings.push(atValue(ctx, '/landscape/optima', 'error', `landscape.optima names task ${a} twice: the plane needs two different tasks (indexes 0 to ${taskCount - 1})`));
      }
    }
  }
  if (isObject(landscape)) {
    for (const key of ['alphaRange', 'betaRange']) {
      const r = landscape[key];
      if (Array.isArray(r) && r.length === 2 && r.every((x) => typeof x === 'number') && (r[0] as number) >= (r[1] as number)) {
        findings.push(atValue(ctx, `/landscape/${key}`, 'error', `landscape.${key} must be [min, max] with min < max, got [${r[0]}, ${r[1]}]`));
      }
    }
  }
  return findings;
}

function modelFindings(ctx: Context, value: Record<string, Json>, view: TaskView): Finding[] {
  const model = value.model;
  if (!isObject(model) || model.type !== 'cnn' || 'preset' in model || !Array.isArray(model.conv)) return [];
  // Image sizes of the built-in datasets used (idx images are known only at run time).
  const sizes = new Map<string, [number, number]>();
  for (const d of view.datasets) if (isBuiltinDataset(d)) sizes.set(`${DATASETS[d].height}x${DATASETS[d].width}`, [DATASETS[d].height, DATASETS[d].width]);
  for (const [h, w] of sizes.values()) {
    const shrink = convShrinkFinding(ctx, model.conv, h, w);
    if (shrink) return [shrink];
  }
  return [];
}

interface ConvLayer {
  filters: number;
  kernel: number;
  pool?: number;
}

/** The first conv or pool of the stack that gets an input smaller than itself, with the sizes on the way. */
function convShrinkFinding(ctx: Context, conv: Json[], h: number, w: number): Finding | undefined {
  // The layers up to the first one the schema rejects (that one is reported already).
  const layers: ConvLayer[] = [];
  for (const layer of conv) {
    if (!isObject(layer) || !isCount(layer.kernel)) break;
    const poolOk = layer.pool === undefined || isCount(layer.pool);
    layers.push({ filters: 1, kernel: layer.kernel, pool: poolOk ? (layer.pool as number | undefined) : undefined });
    if (!poolOk) break;
  }
  const input: [number, number, number] = [h, w, 1];
  const out = convOutputSize(input, layers);
  if (!('error' in out)) return undefined;
  const size = (stack: ConvLayer[]): string => {
    const r = convOutputSize(input, stack);
    return 'shape' in r ? `${r.shape[0]}x${r.shape[1]}` : '?';
  };
  const convOnly = (i: number): ConvLayer[] => [...layers.slice(0, i), { ...layers[i], pool: undefined }];
  const trace = [`${h}x${w} image`];
  for (let i = 0; i < out.layer; i++) {
    trace.push(`conv[${i}] ${size(convOnly(i))}`);
    if ((layers[i].pool ?? 1) > 1) trace.push(`pool ${size(layers.slice(0, i + 1))}`);
  }
  const i = out.layer;
  const convFails = 'error' in convOutputSize(input, convOnly(i));
  if (!convFails) trace.push(`conv[${i}] ${size(convOnly(i))}`);
  const fix = convFails ? 'smaller than its kernel; use a smaller kernel, less pooling or fewer conv layers' : 'smaller than the pool; use a smaller pool, smaller kernels or fewer conv layers';
  return atValue(ctx, `/model/conv/${i}/${convFails ? 'kernel' : 'pool'}`, 'error', `model.conv[${i}]: ${out.error} (${trace.join(' → ')}), ${fix}`);
}

/** A strategy made for some scenarios only (iCaRL: class-IL) is not run in another. */
function strategyFindings(ctx: Context, value: Record<string, Json>): Finding[] {
  const s = value.strategy;
  if (!isObject(s) || typeof s.name !== 'string') return [];
  const def = strategyDefinition(s.name);
  if (!def?.scenarios) return [];
  const { scenario, from } = scenarioOf(value);
  if (def.scenarios.includes(scenario)) return [];
  const fix = from === 'benchmark' ? ' (benchmark.scenario)' : from === 'default' ? ` (the default; set "scenario": ${json(def.scenarios[0])})` : '';
  return [atValue(ctx, '/strategy/name', 'error', `${def.name} needs the ${orList(def.scenarios)} scenario; this experiment is ${scenario}${fix}`)];
}

// ---------------------------------------------------------------------------------------------
// Resources (on the normalised experiment: the estimate needs every default filled in)

/** The field itself when the file gives it, else its nearest given ancestor ('' = the experiment). */
function givenPointer(ctx: Context, pointer: string): string {
  let p = pointer;
  while (p !== '' && locate(ctx.root, p).value === undefined) p = p.slice(0, p.lastIndexOf('/'));
  return p;
}

/** What to change, by the field that drives the largest part. */
const MEMORY_FIXES: readonly [RegExp, string][] = [
  [/^\/model/, 'use a smaller model'],
  [/^\/strategy\/memorySize/, 'use a smaller memorySize'],
  [/^\/landscape\/checkpointEvery/, 'raise landscape.checkpointEvery, train fewer steps, or turn the landscape off ("landscape": false)'],
  [/^\/landscape/, 'turn the landscape off ("landscape": false) or use a smaller model'],
  [/^\/training\/evalEvery/, 'raise training.evalEvery or train fewer steps'],
  [/^\/training\/batchSize/, 'use a smaller batchSize'],
  [/^\/(tasks|benchmark)/, 'train on fewer examples (train) or fewer tasks'],
];

/**
 * Refuses a run whose estimated peak memory exceeds the machine's, at the field that drives the
 * largest part; warns about a run longer than a day and refuses one longer than a year.
 */
export function resourceFindings(ctx: Context, ex: NormalisedExperiment, shape: RunShape, env: ResourceEnvironment): Finding[] {
  const est = estimateRun(ex, shape);
  if (!est) return [];
  const findings: Finding[] = [];
  const unknown = est.unknown.length ? `; not counting the data of ${est.unknown.join(', ')}, sized only at run time` : '';
  if (!(est.memoryBytes <= env.totalMemoryBytes)) {
    const biggest = est.parts.reduce((a, b) => (b.bytes > a.bytes ? b : a), est.parts[0] ?? { what: 'the model', bytes: est.memoryBytes, pointer: '/model' });
    // A model whose own state cannot fit is the cause, whatever scales with it (checkpoints of its weights).
    const model = est.parts.find((p) => p.what === MODEL_STATE && p.bytes > env.totalMemoryBytes);
    const culprit = model ?? biggest;
    const fix = MEMORY_FIXES.find(([re]) => re.test(culprit.pointer))?.[1] ?? 'make the run smaller';
    const stepField = ex.training.iterations !== undefined ? '/training/iterations' : '/training/epochs';
    // Checkpoints and curve points grow with the steps: point at the steps when the file sets them and not the rate.
    const perStep = /^\/(landscape\/checkpointEvery|training\/evalEvery)/.test(culprit.pointer);
    const pointer = perStep && givenPointer(ctx, culprit.pointer) !== culprit.pointer && givenPointer(ctx, stepField) === stepField ? stepField : givenPointer(ctx, culprit.pointer);
    const alone = model && model !== biggest ? `; ${model.what} alone need ${formatBytes(model.bytes)}` : '';
    const message =
      `the run needs ${Number.isFinite(est.memoryBytes) ? `about ${formatBytes(est.memoryBytes)} of memory` : 'more memory than can be counted'} (${formatLargeCount(est.parameters)} parameters; most of it for ${biggest.what}, ${formatBytes(biggest.bytes)}${alone}${unknown})` +
      ` but this machine has ${formatBytes(env.totalMemoryBytes)}: ${fix}`;
    findings.push(atValue(ctx, pointer, 'error', message));
  }
  if (est.seconds > LONG_RUN_SECONDS) {
    const training = est.trainFlops >= est.flops / 2;
    const stepField = ex.training.iterations !== undefined ? '/training/iterations' : '/training/epochs';
    const given = (p: string) => givenPointer(ctx, p) === p;
    const trainingAt = given(stepField) ? stepField : given('/model') ? '/model' : stepField;
    const chosen = training ? trainingAt : ex.landscape && given('/landscape/grid') ? '/landscape/grid' : '/training/evalEvery';
    // A default drives it (nothing in the file says so): the model, which every image's cost scales with.
    const pointer = given(chosen) || !given('/model') ? givenPointer(ctx, chosen) : '/model';
    const rate = `at the measured ~${(EFFECTIVE_FLOPS_PER_SECOND / 1e9).toFixed(0)} GFLOP/s, ~${formatLargeCount(MEASURED_SMALL_CNN_IMAGES_PER_SECOND)} small-CNN images/s`;
    const what = `${formatLargeCount(est.steps)} steps, ${formatLargeCount(est.trainImages)} training and ${formatLargeCount(est.evalImages)} evaluation images`;
    if (est.seconds > HARD_CAP_SECONDS) {
      findings.push(atValue(ctx, pointer, 'error', `the run would take about ${formatSeconds(est.seconds)} (${what}, ${rate}${unknown}): more than a year, so it would never finish; train fewer steps`));
    } else {
      findings.push(atValue(ctx, pointer, 'warning', `the run will take about ${formatSeconds(est.seconds)} (${what}, ${rate}${unknown})`));
    }
  }
  return findings;
}

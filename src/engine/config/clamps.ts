// What the engine changes in what an experiment asks for because the data has fewer examples: a
// subset larger than a task's data, curve or landscape samples beyond a task's test set, a batch
// larger than a phase's training set. The editor shows these as warnings (load.ts, with the sizes
// the built-in datasets are known to have) and the runner records them as notes in the result (with
// the sizes it loaded): one function, so both say the same thing.
import type { NormalisedExperiment, TaskSpec } from '../../protocol/experiment';
import { formatCount } from '../../protocol/format';
import { DATASETS, isBuiltinDataset, type BuiltinDatasetName } from '../data/datasets';
import { EXPERIMENT_DEFAULTS } from './defaults';
import { fieldName } from './source';

/** Examples of each class in the built-in datasets' training and test files (counted from the files datasets.ts hashes). */
export const BUILTIN_CLASS_COUNTS: Readonly<Record<BuiltinDatasetName, { readonly train: readonly number[]; readonly test: readonly number[] }>> = {
  mnist: {
    train: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    test: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
  },
  'fashion-mnist': {
    train: Array.from({ length: 10 }, () => 6000),
    test: Array.from({ length: 10 }, () => 1000),
  },
};

/** Examples a task trains and is tested on. */
export interface TaskSize {
  train: number;
  test: number;
}

/** A change to what the experiment asks for, and the field that asked (JSON pointer, e.g. "/tasks/0/train"). */
export interface ClampNote {
  pointer: string;
  message: string;
}

/**
 * The sizes a task of a built-in dataset will have (its classes, then its subsets, capped at what
 * the data has); undefined for other datasets (known only once loaded).
 */
export function knownTaskSize(task: TaskSpec): TaskSize | undefined {
  if (!isBuiltinDataset(task.dataset)) return undefined;
  const counts = BUILTIN_CLASS_COUNTS[task.dataset];
  const classes = task.classes ?? Array.from({ length: DATASETS[task.dataset].classes }, (_, k) => k);
  if (classes.some((c) => counts.train[c] === undefined)) return undefined;
  const available = (split: 'train' | 'test') => classes.reduce((n, c) => n + counts[split][c], 0);
  const size = (split: 'train' | 'test') => Math.min(task[split] ?? Infinity, available(split));
  return { train: size('train'), test: size('test') };
}

interface Shortfall {
  name: string;
  size: number;
}

const NOUNS = { train: 'training examples', test: 'test examples' } as const;

/**
 * "the 60,000 training examples of mnist", "the training examples of 0/1 (12,665), 2/3 (12,089)",
 * "the 200 test examples of each of the benchmark's tasks".
 */
function shortOf(short: Shortfall[], split: 'train' | 'test', everyTask: string | null): string {
  const same = short.every((s) => s.size === short[0].size);
  if (short.length === 1) return `the ${formatCount(short[0].size)} ${NOUNS[split]} of ${short[0].name}`;
  if (same) return `the ${formatCount(short[0].size)} ${NOUNS[split]} of each of ${everyTask ?? short.map((s) => s.name).join(', ')}`;
  return `the ${NOUNS[split]} of ${short.map((s) => `${s.name} (${formatCount(s.size)})`).join(', ')}`;
}

/** The dataset (and classes) a task draws from, as a note names it. */
function taskSource(task: TaskSpec): string {
  return task.classes ? `${task.dataset} classes ${task.classes.join(', ')}` : task.dataset;
}

/** Whether the experiment asked for a setting itself (a default is not the user's doing). */
export type AskedFor = (pointer: string) => boolean;

/** A runner without the file: a setting equal to its default is taken as the default. */
export function differsFromDefault(ex: NormalisedExperiment): AskedFor {
  const landscapeDefault = EXPERIMENT_DEFAULTS.landscape.samples;
  return (pointer) => {
    if (pointer === '/training/evalSamples') return ex.training.evalSamples !== EXPERIMENT_DEFAULTS.training.evalSamples;
    if (pointer === '/training/batchSize') return ex.training.batchSize !== EXPERIMENT_DEFAULTS.training.batchSize;
    if (pointer === '/landscape/samples') return !!ex.landscape && ex.landscape.samples !== landscapeDefault;
    return true;
  };
}

/**
 * What the engine will change (or changed) in the experiment, given each task's sizes (undefined
 * where unknown) and the phases the strategy trains in.
 */
export function clampNotes(ex: NormalisedExperiment, sizes: readonly (TaskSize | undefined)[], phases: readonly (readonly number[])[], asked: AskedFor = differsFromDefault(ex)): ClampNote[] {
  const notes: ClampNote[] = [];
  const bench = ex.benchmark;
  // In a list, a benchmark's tasks go by their labels ("0/1", "perm 3"), listed tasks by their place in the file.
  const name = (i: number) => (bench ? (ex.tasks[i].label ?? `task ${i}`) : `tasks[${i}]`);
  const note = (pointer: string, asked: number, short: Shortfall[], split: 'train' | 'test', consequence: string): ClampNote => {
    const everyTask = bench && short.length === ex.tasks.length ? "the benchmark's tasks" : null;
    return { pointer, message: `${fieldName(pointer)} is ${asked}, more than ${shortOf(short, split, everyTask)}: ${consequence}` };
  };
  const known = ex.tasks.map((t, i) => ({ t, i, size: sizes[i] })).filter((x): x is { t: TaskSpec; i: number; size: TaskSize } => x.size !== undefined);

  for (const split of ['train', 'test'] as const) {
    const consequence = (many: boolean) => {
      const one = bench ? 'that task' : 'the task';
      if (split === 'train') return many ? 'those tasks train on all of theirs' : `${one} trains on all of them`;
      return many ? 'those tasks are tested on all of theirs' : `${one} is tested on all of them`;
    };
    if (bench) {
      const want = bench[split];
      const short = want === undefined ? [] : known.filter((x) => x.size[split] < want).map((x) => ({ name: name(x.i), size: x.size[split] }));
      if (want !== undefined && short.length) notes.push(note(`/benchmark/${split}`, want, short, split, consequence(short.length > 1)));
      continue;
    }
    for (const { t, i, size } of known) {
      const want = t[split];
      if (want !== undefined && size[split] < want) notes.push(note(`/tasks/${i}/${split}`, want, [{ name: taskSource(t), size: size[split] }], split, consequence(false)));
    }
  }

  const beyondTests = (n: number) => known.filter((x) => x.size.test < n).map((x) => ({ name: name(x.i), size: x.size.test }));
  const evalSamples = ex.training.evalSamples;
  const curveShort = beyondTests(evalSamples);
  if (curveShort.length && asked('/training/evalSamples')) {
    const which = curveShort.length === 1 ? 'the accuracy curve of that task uses' : 'the accuracy curves of those tasks use';
    notes.push(note('/training/evalSamples', evalSamples, curveShort, 'test', `${which} all of them`));
  }
  const land = ex.landscape;
  if (land && phases.length >= 2) {
    const landShort = beyondTests(land.samples);
    if (landShort.length && asked('/landscape/samples')) notes.push(note('/landscape/samples', land.samples, landShort, 'test', 'the landscape uses all of them'));
  }

  // A phase trains on the union of its tasks; a batch cannot hold more than that.
  const batch = ex.training.batchSize;
  const phaseShort: Shortfall[] = [];
  for (const tasks of phases) {
    const ofPhase = tasks.map((t) => sizes[t]);
    if (!tasks.length || ofPhase.some((s) => s === undefined)) continue;
    const n = ofPhase.reduce((sum, s) => sum + s!.train, 0);
    if (n < batch) phaseShort.push({ name: tasks.map(name).join(' + '), size: n });
  }
  if (phaseShort.length && asked('/training/batchSize')) {
    notes.push(note('/training/batchSize', batch, phaseShort, 'train', `every step ${phaseShort.length === 1 ? 'on it' : 'on those'} uses all of them`));
  }
  return notes;
}

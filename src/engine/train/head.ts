// The output layer in the three scenarios of van de Ven & Tolias (2019). One output layer is
// allocated up front for every scenario, so the parameter vector keeps its length across tasks
// (the landscape compares theta_A with theta_B); the scenarios differ in which units a task's
// classes map to and which units are allowed (masked logits) when training and scoring.
//   domain-il: one shared head; task t's k-th class is unit k (MNIST and Fashion share units 0-9).
//   task-il:   one head per task; task t owns its own units, and only they compete (the task label
//              is given at training and test time).
//   class-il:  one head over every class seen; a class is a unit across tasks (same dataset and
//              transform and label = same unit), and every unit seen so far competes.
import type { Scenario } from '../../protocol/experiment';

/** Added to the logits of units that may not win (exp(-1e9) underflows to exactly 0). */
export const MASKED_LOGIT = -1e9;

export interface HeadTask {
  /** The dataset's label ids in this task, in target order. */
  classIds: number[];
  /** What makes two tasks' classes the same class (dataset, folder, permutation, rotation). */
  domain: string;
}

export interface HeadLayout {
  scenario: Scenario;
  /** Output units allocated. */
  outputs: number;
  /** units[t][k]: the unit of task t's k-th class. */
  units: number[][];
}

export function buildHead(scenario: Scenario, tasks: readonly HeadTask[]): HeadLayout {
  if (scenario === 'domain-il') {
    const units = tasks.map((t) => t.classIds.map((_, k) => k));
    return { scenario, outputs: Math.max(0, ...tasks.map((t) => t.classIds.length)), units };
  }
  if (scenario === 'task-il') {
    let next = 0;
    const units = tasks.map((t) => t.classIds.map(() => next++));
    return { scenario, outputs: next, units };
  }
  const unitOf = new Map<string, number>();
  const units = tasks.map((t) =>
    t.classIds.map((c) => {
      const key = `${t.domain}\u0000${c}`;
      let u = unitOf.get(key);
      if (u === undefined) unitOf.set(key, (u = unitOf.size));
      return u;
    }),
  );
  return { scenario, outputs: unitOf.size, units };
}

function union(head: HeadLayout, tasks: readonly number[]): number[] {
  return [...new Set(tasks.flatMap((t) => head.units[t]))].sort((a, b) => a - b);
}

/**
 * Units allowed when training an example of task `task` while `seenTasks` (earlier phases' and the
 * current phase's tasks) have been seen; null = all units.
 */
export function trainingUnits(head: HeadLayout, task: number, seenTasks: readonly number[]): number[] | null {
  return unitsFor(head.scenario, head, task, seenTasks);
}

/**
 * Units allowed when scoring task `task` after training `seenTasks` (none: before training, all
 * units). Class-IL always allows the scored task's own units too, so a future task's loss stays
 * finite. `scenario` may differ from the head's (alternate accuracy: class-IL scoring of a task-IL
 * head and the reverse).
 */
export function scoringUnits(head: HeadLayout, task: number, seenTasks: readonly number[], scenario: Scenario = head.scenario): number[] | null {
  return unitsFor(scenario, head, task, seenTasks);
}

function unitsFor(scenario: Scenario, head: HeadLayout, task: number, seenTasks: readonly number[]): number[] | null {
  if (scenario === 'domain-il') return null;
  if (scenario === 'task-il') return head.units[task];
  if (seenTasks.length === 0) return null;
  return union(head, [...seenTasks, task]);
}

/** The scenario whose accuracy one run also gives (task-IL <-> class-IL), or null (domain-IL). */
export function alternateScenario(head: HeadLayout): 'task-il' | 'class-il' | null {
  if (head.scenario === 'domain-il') return null;
  // A class-IL head shares units between tasks only when their classes coincide; then the
  // task-IL score is still well defined (the task's own units). A task-IL head's units are disjoint.
  return head.scenario === 'task-il' ? 'class-il' : 'task-il';
}

/** Additive mask over the outputs: 0 for allowed units, MASKED_LOGIT elsewhere; null = none. */
export function maskVector(outputs: number, units: readonly number[] | null): Float32Array | null {
  if (!units) return null;
  const m = new Float32Array(outputs).fill(MASKED_LOGIT);
  for (const u of units) m[u] = 0;
  return m;
}

/** A [rows, outputs] mask, one row per example by its task (null when no example is masked). */
export function maskRows(head: HeadLayout, tasks: Int32Array, seenTasks: readonly number[]): Float32Array | null {
  if (head.scenario === 'domain-il') return null;
  const out = new Float32Array(tasks.length * head.outputs);
  const cache = new Map<number, Float32Array | null>();
  for (let i = 0; i < tasks.length; i++) {
    let row = cache.get(tasks[i]);
    if (row === undefined) cache.set(tasks[i], (row = maskVector(head.outputs, trainingUnits(head, tasks[i], seenTasks))));
    if (row) out.set(row, i * head.outputs);
  }
  return out;
}

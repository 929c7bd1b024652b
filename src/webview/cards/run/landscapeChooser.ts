// The run panel's choice of landscape plane, without the DOM: which planes a run allows (two
// different phases' optima, a second axis, a third point off their line), what a saved file
// (landscape-<i>-<j>-<axis>[-g<grid>].json, engine/landscape/job.ts) holds in words, which plane is
// shown, and the panel's landscape state as the host's messages build it.
import type { LandscapeResult, RunResult } from '../../../protocol/result';
import type { LandscapeJobMessage, LandscapeListMessage, LandscapeSecondAxis, LandscapeShowMessage } from '../../../protocol/webview';

/** What the host told the panel about its landscapes (controller.ts folds the messages into it). */
export interface RunLandscapes {
  files: string[];
  /** The saved file shown, or null for the run's own landscape. */
  shown: string | null;
  canCompute: boolean;
  blocked?: string;
  /** The job's last state (running with its progress, or how it ended). */
  job: LandscapeJobMessage | null;
  /** The last progress a running job reported ("done / total"), kept after it ends (a fast job may end between two looks). */
  lastProgress?: { done: number; total: number };
  /** Why the host refused the last request (a job already running, Restricted Mode, a file it cannot read). */
  refusal?: string;
  /** The saved landscape last sent to draw. */
  showing: { file: string; landscape: LandscapeResult } | null;
}

export const emptyLandscapes = (): RunLandscapes => ({ files: [], shown: null, canCompute: false, job: null, showing: null });

/** Folds a host message into the panel's landscapes; null when the message is not about them. */
export function applyLandscapeMessage(state: RunLandscapes | undefined, m: unknown): RunLandscapes | null {
  if (typeof m !== 'object' || m === null) return null;
  const msg = m as LandscapeListMessage | LandscapeJobMessage | LandscapeShowMessage;
  const s = state ?? emptyLandscapes();
  switch (msg.type) {
    case 'landscapeList':
      if (!Array.isArray(msg.files)) return null;
      return { ...s, files: msg.files.filter((f) => typeof f === 'string'), shown: typeof msg.shown === 'string' ? msg.shown : null, canCompute: msg.canCompute === true, blocked: typeof msg.blocked === 'string' ? msg.blocked : undefined };
    case 'landscapeJob':
      // A refusal leaves the job as it is (a running job's progress stays; the card shows the refusal beside it).
      if (msg.state === 'refused') return { ...s, refusal: typeof msg.error === 'string' ? msg.error : 'the request was refused' };
      return { ...s, job: msg, refusal: undefined, ...(msg.state === 'running' ? { lastProgress: { done: msg.done, total: msg.total } } : {}) };
    case 'landscapeShow':
      if (typeof msg.file !== 'string' || typeof msg.landscape !== 'object' || msg.landscape === null) return null;
      return { ...s, shown: msg.file, showing: { file: msg.file, landscape: msg.landscape } };
    default:
      return null;
  }
}

/** The second axis as a saved file names it. */
export type SavedAxis = { kind: 'trajectory-pca' } | { kind: 'random' } | { kind: 'self'; phase: number | null } | { kind: 'run'; name: string; phase: number | null };

export interface SavedPlane {
  optima: [number, number];
  axis: SavedAxis;
  /** Points per axis when not the run's own grid. */
  grid?: number;
}

const FILE = /^landscape-(\d+)-(\d+)-(pca|random|self-(\d+|last)|run-(.+)-(\d+|last)-[0-9a-f]{8})(?:-g(\d+))?\.json$/;

/** What a saved landscape file holds, from its name (null: not a name the landscape job writes). */
export function parseLandscapeFile(name: string): SavedPlane | null {
  const m = FILE.exec(name);
  if (!m) return null;
  const optima: [number, number] = [Number(m[1]), Number(m[2])];
  const phase = (s: string) => (s === 'last' ? null : Number(s));
  const axis: SavedAxis = m[3] === 'pca' ? { kind: 'trajectory-pca' } : m[3] === 'random' ? { kind: 'random' } : m[4] !== undefined ? { kind: 'self', phase: phase(m[4]) } : { kind: 'run', name: m[5], phase: phase(m[6]) };
  return { optima, axis, ...(m[7] ? { grid: Number(m[7]) } : {}) };
}

/** The file the landscape job saves a plane of this run to (the run's own grid): engine/landscape/job.ts landscapeJobFile. */
export function landscapeFileName(optima: readonly [number, number], axis: LandscapeSecondAxis): string {
  const part = axis === 'trajectory-pca' ? 'pca' : axis === 'random' ? 'random' : `self-${axis.phase}`;
  return `landscape-${optima[0]}-${optima[1]}-${part}.json`;
}

const phaseName = (labels: readonly string[], p: number) => `${labels[p] ?? `phase ${p}`} (phase ${p})`;

/** The second axis in words. */
export function axisText(axis: SavedAxis, labels: readonly string[]): string {
  switch (axis.kind) {
    case 'trajectory-pca':
      return 'trajectory PCA';
    case 'random':
      return 'random, filter-normalised';
    case 'self':
      return axis.phase === null ? 'through the last phase’s end weights' : `through the end weights after ${phaseName(labels, axis.phase)}`;
    case 'run':
      return `through run ${axis.name}${axis.phase === null ? '' : ` after phase ${axis.phase}`}`;
  }
}

/** "θ_A after mnist (phase 0) · θ_B after fashion (phase 2) · axis 2: trajectory PCA". */
export function planeText(plane: SavedPlane, labels: readonly string[]): string {
  const [a, b] = plane.optima;
  return `θ_A after ${phaseName(labels, a)} · θ_B after ${phaseName(labels, b)} · axis 2: ${axisText(plane.axis, labels)}${plane.grid ? ` · ${plane.grid}×${plane.grid} grid` : ''}`;
}

/** A saved file in words (its name when it is not one the job writes). */
export function describeLandscapeFile(name: string, labels: readonly string[]): string {
  const plane = parseLandscapeFile(name);
  return plane ? planeText(plane, labels) : name;
}

/** The plane of a landscape from its own fields (the run's own, or a saved one). */
export function planeOf(land: Pick<LandscapeResult, 'optima' | 'secondAxis' | 'thirdPoint'>, runDir?: string): SavedPlane {
  const t = land.thirdPoint;
  const axis: SavedAxis =
    land.secondAxis === 'point' && t
      ? runDir !== undefined && trimSlash(t.run) === trimSlash(runDir)
        ? { kind: 'self', phase: t.phase }
        : { kind: 'run', name: t.run.split(/[\\/]/).filter(Boolean).pop() ?? t.run, phase: t.phase }
      : land.secondAxis === 'random'
        ? { kind: 'random' }
        : { kind: 'trajectory-pca' };
  return { optima: [land.optima[0], land.optima[1]], axis };
}

const trimSlash = (p: string) => p.replace(/[\\/]+$/, '');

/** The choices in the chooser. */
export interface LandscapeSelection {
  a: number;
  b: number;
  /** 'trajectory-pca' | 'random' | 'phase:<k>' (a third point: phase k's end weights). */
  axis: string;
}

export const axisOfChoice = (choice: string): LandscapeSecondAxis | null => {
  if (choice === 'trajectory-pca' || choice === 'random') return choice;
  const m = /^phase:(\d+)$/.exec(choice);
  return m ? { phase: Number(m[1]) } : null;
};

export const choiceOfAxis = (axis: LandscapeSecondAxis): string => (typeof axis === 'object' ? `phase:${axis.phase}` : axis);

/** Phases whose end weights the run kept (0 when none, or the run is not finished). */
export function keptPhases(r: Pick<RunResult, 'status' | 'weights'>): number {
  return r.status !== 'running' && r.weights ? r.weights.phases : 0;
}

/** Why this run's plane cannot be chosen (undefined when it can). */
export function chooserUnavailable(r: Pick<RunResult, 'status' | 'weights'>): string | undefined {
  if (r.status === 'running') return 'The plane can be chosen when the run has finished.';
  if (!r.weights) return 'This run kept no weights, so its plane cannot be recomputed (runs with a landscape keep them).';
  if (r.weights.phases < 2) return 'This run kept the end weights of one phase: a plane needs two.';
  return undefined;
}

/** The default selection: the run's own pair and axis, or the first two phases. */
export function defaultSelection(r: Pick<RunResult, 'landscape' | 'experiment'>, phases: number): LandscapeSelection {
  const own = r.landscape?.optima ?? (r.experiment?.landscape ? r.experiment.landscape.optima : undefined);
  const [a, b] = own && own[0] < phases && own[1] < phases && own[0] !== own[1] ? own : [0, Math.min(1, phases - 1)];
  const axis = r.experiment?.landscape ? r.experiment.landscape.secondAxis : 'trajectory-pca';
  return { a, b, axis };
}

export interface ChooserOption {
  value: string;
  label: string;
  disabled?: boolean;
}

export interface ChooserModel {
  phaseOptions: ChooserOption[];
  axisOptions: ChooserOption[];
  /** Why Compute is off (undefined: it is on). */
  problem?: string;
  /** The selection is saved already: its file (Compute shows it instead). */
  existing?: string;
  /** The selection's plane is the run's own (shown without a job). */
  isOwn: boolean;
}

/** What the chooser offers for a selection: valid pairs, axes, and whether a job would compute something new. */
export function chooserModel(sel: LandscapeSelection, ctx: { phases: number; labels: readonly string[]; files: readonly string[]; own: Pick<LandscapeResult, 'optima' | 'secondAxis' | 'thirdPoint'> | null; canCompute: boolean; blocked?: string; running: boolean }): ChooserModel {
  const phaseOptions = Array.from({ length: ctx.phases }, (_, p) => ({ value: String(p), label: `${ctx.labels[p] ?? `phase ${p}`} (phase ${p})` }));
  const axisOptions: ChooserOption[] = [
    { value: 'trajectory-pca', label: 'trajectory PCA' },
    { value: 'random', label: 'random (filter-normalised)' },
    ...Array.from({ length: ctx.phases }, (_, p) => ({
      value: `phase:${p}`,
      label: `third point: end of ${ctx.labels[p] ?? `phase ${p}`} (phase ${p})`,
      disabled: p === sel.a || p === sel.b,
    })),
  ];
  const axis = axisOfChoice(sel.axis);
  const inRange = (p: number) => Number.isInteger(p) && p >= 0 && p < ctx.phases;
  let problem: string | undefined;
  if (!ctx.canCompute) problem = ctx.blocked ?? 'Landscape jobs cannot run here.';
  else if (ctx.running) problem = 'A landscape is being computed.';
  else if (!inRange(sel.a) || !inRange(sel.b)) problem = 'Choose two phases of this run.';
  else if (sel.a === sel.b) problem = 'θ_A and θ_B must be different phases.';
  else if (!axis) problem = 'Choose the second axis.';
  else if (typeof axis === 'object' && (!inRange(axis.phase) || axis.phase === sel.a || axis.phase === sel.b)) problem = 'The third point must be a phase other than θ_A’s and θ_B’s (it would lie on their line).';
  const file = axis && sel.a !== sel.b ? landscapeFileName([sel.a, sel.b], axis) : undefined;
  const own = ctx.own;
  const isOwn = !!own && !!axis && typeof axis === 'string' && own.optima[0] === sel.a && own.optima[1] === sel.b && own.secondAxis === axis;
  return { phaseOptions, axisOptions, ...(problem ? { problem } : {}), ...(file && ctx.files.includes(file) ? { existing: file } : {}), isOwn };
}

/** The progress line of a running job: "grid 12 / 49". */
export function jobProgressText(job: Extract<LandscapeJobMessage, { state: 'running' }>): string {
  if (!job.total) return 'Starting the landscape job…';
  const phase = job.phase === 'grid' ? 'grid points' : job.phase === 'line' ? 'line points' : job.phase;
  return `${phase}: ${job.done} / ${job.total}`;
}

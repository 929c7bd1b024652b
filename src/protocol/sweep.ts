// Sweeps: one experiment file expanded into runs (seeds and/or a Cartesian product over dotted
// paths), each in its own folder under one sweep folder indexed by sweep.json. The index is what
// the CLI, the Runs view, `compare` and a Slurm job array agree on.

/** Name of the index file in a sweep folder. */
export const SWEEP_FILE = 'sweep.json';
/** Format of sweep.json; bump on an incompatible change. */
export const SWEEP_FORMAT_VERSION = 1;
/** Each run's expanded experiment, written into its run folder (what its trainer / array task runs). */
export const SWEEP_RUN_EXPERIMENT = 'experiment.cl.json';

/** A value a sweep sets at a dotted path of the experiment (JSON scalars, arrays and objects alike). */
export type SweepValue = string | number | boolean | null | SweepValue[] | { [k: string]: SweepValue };

/** One swept field: a dotted path into the experiment ("strategy.lambda", "training.learningRate", "seed"). */
export interface SweepAxis {
  path: string;
  values: SweepValue[];
}

/** One expanded run of a sweep. */
export interface SweepRunEntry {
  /** 0-based index in the Cartesian product (axes in file order, the last axis varying fastest); also the Slurm array index. */
  index: number;
  /** Run folder, relative to the sweep folder ("runs/003-lambda-1000-seed-1"). */
  folder: string;
  /** The value of every axis for this run, by path (seed included when swept). */
  params: Record<string, SweepValue>;
  seed: number;
}

export type SweepExecutor =
  | { type: 'local'; parallel: number }
  | {
      type: 'slurm';
      /** Every submission of the sweep (resubmitting skips completed runs and adds one). */
      submissions: { jobId: string; arrayIndices: number[]; submittedAt: string; script: string }[];
      partition?: string;
      time?: string;
    };

/** sweep.json */
export interface SweepIndex {
  formatVersion: number;
  kind: 'sweep';
  /** The experiment's name (the sweep's label). */
  name: string;
  /** The experiment file the sweep was expanded from (absolute). */
  experimentFile: string;
  createdAt: string;
  axes: SweepAxis[];
  runs: SweepRunEntry[];
  executor: SweepExecutor;
}

/** A run's state as seen from the sweep folder (its result.json, or the cluster when it has none yet). */
export type SweepRunState = 'pending' | 'running' | 'completed' | 'cancelled' | 'failed' | 'missing';

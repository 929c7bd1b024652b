// `continual-workbench run FILE --executor slurm`: submits a sweep folder as a Slurm job array and
// reports its runs' states (for the CLI, the Runs view and `compare`). The work is in
// engine/sweep/slurm.ts; this file prints.
import { relative } from 'node:path';
import type { SweepRunState } from '../protocol/sweep';
import { readSweepIndex } from '../engine/sweep/folder';
import { arraySpec, slurmStatus, submitSlurmSweep, type SlurmExec, type SlurmRunStatus } from '../engine/sweep/slurm';

export interface SubmitSweepOptions {
  partition?: string;
  time?: string;
  /** continual-workbench's CLI as the compute nodes reach it (the shared file system's dist/cli.js). */
  cliPath: string;
  /** Submit the runs that did not complete (and are not queued or running) of an already submitted sweep. */
  resubmit?: boolean;
  /** Node.js on the compute nodes (default: the one running this CLI). */
  node?: string;
  cpusPerTask?: number;
  /** Slurm's commands (tests inject captured output). */
  exec?: SlurmExec;
  /** Where the report lines go (default stdout/stderr). */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** Exit codes: 0 submitted (or nothing left to run), 1 Slurm refused or is missing, 2 the sweep folder is not a sweep. */
export async function submitSweepToSlurm(sweepDir: string, opts: SubmitSweepOptions): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const err = opts.err ?? ((l: string) => process.stderr.write(l + '\n'));
  try {
    readSweepIndex(sweepDir);
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 2;
  }
  try {
    const r = await submitSlurmSweep(sweepDir, opts);
    if (r.kind === 'nothing') {
      out(`nothing to submit: ${r.reason}`);
      return 0;
    }
    out(`submitted ${r.indices.length} run(s) as Slurm job ${r.jobId} (array ${arraySpec(r.indices)})${r.skipped.length ? `; skipped ${arraySpec(r.skipped)} (completed or still queued)` : ''}`);
    out(`script: ${r.script}`);
    out(`logs: ${sweepDir}/slurm/${r.jobId}_<index>.log; follow with squeue -j ${r.jobId}`);
    return 0;
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 1;
  }
}

export interface SweepRunSlurmStatus {
  index: number;
  state: SweepRunState;
  jobId?: string;
  slurmState?: string;
  log?: string;
  /** Run folder relative to the sweep folder. */
  folder: string;
  /** Why (failed and missing runs always say). */
  message?: string;
}

/** Every run of a Slurm sweep with its state, the array job, Slurm's state and the array task's log. */
export async function slurmSweepStatus(sweepDir: string, opts: { exec?: SlurmExec } = {}): Promise<SweepRunSlurmStatus[]> {
  return slurmStatus(sweepDir, opts);
}

/** A status table for the terminal: index, state, job, Slurm state, run folder, then why and the log. */
export function formatSlurmStatus(sweepDir: string, rows: SlurmRunStatus[]): string {
  const lines = rows.map((r) => {
    const job = r.jobId ? `${r.jobId}_${r.index}` : '-';
    const tail = r.state === 'completed' ? '' : `  ${[r.message, r.log ? `log: ${relative(sweepDir, r.log)}` : ''].filter(Boolean).join('; ')}`;
    return `${String(r.index).padStart(4)}  ${r.state.padEnd(9)}  ${job.padEnd(12)}  ${(r.slurmState ?? '-').padEnd(11)}  ${r.folder}${tail}`;
  });
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  return [`index  state      job           slurm        run`, ...lines, summary].join('\n');
}

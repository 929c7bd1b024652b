// How many cores one run may use. A run alone uses every core; when a sweep or the extension runs
// several at once, the launcher sets CLW_THREADS to its share (max(1, floor(cores / runs in flight)))
// so that N runs never start N x cores threads.
import { availableParallelism, cpus } from 'node:os';

export const THREADS_ENV = 'CLW_THREADS';

/** Cores of this machine. */
export function machineCores(): number {
  return typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
}

/** The cores this run may use: CLW_THREADS when it is a positive integer, else every core. */
export function runCores(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[THREADS_ENV];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, machineCores()) : machineCores();
}

/** A launcher's share for each of `runsInFlight` runs at once. */
export function threadsPerRun(runsInFlight: number, cores = machineCores()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, runsInFlight)));
}

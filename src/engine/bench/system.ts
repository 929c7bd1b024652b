// What the bench records about the machine and its processes: peak resident memory (Linux's VmHWM,
// reset per case where the kernel allows it), load average, and child commands timed with
// /usr/bin/time -v when it is there (wall time and the child's peak RSS as the kernel counted them).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PeakRss {
  /** Peak resident set size, MB (10^6 bytes). */
  mb: number;
  /** Where it came from: VmHWM of /proc/self/status (reset before the case), or getrusage's ru_maxrss (since process start). */
  source: 'VmHWM' | 'VmHWM (since start)' | 'maxRSS';
}

/** Peak RSS of this process so far. */
export function peakRss(resetDone = false): PeakRss {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return { mb: (Number(m[1]) * 1024) / 1e6, source: resetDone ? 'VmHWM' : 'VmHWM (since start)' };
  } catch {
    // not Linux: getrusage below
  }
  return { mb: (process.resourceUsage().maxRSS * 1024) / 1e6, source: 'maxRSS' };
}

/**
 * Resets this process's peak RSS to its current RSS (Linux >= 4.0: `echo 5 > /proc/self/clear_refs`),
 * so that a later peakRss(true) is the peak of what ran in between. False where it is not possible.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export interface MachineNote {
  cpus: number;
  cpuModel: string;
  /** 1-minute load average: above the core count means other work competes for the cores. */
  loadavg1: number;
}

export function machineNote(): MachineNote {
  const c = cpus();
  return { cpus: c.length, cpuModel: c[0]?.model ?? 'unknown', loadavg1: Math.round(loadavg()[0] * 100) / 100 };
}

export const GNU_TIME = '/usr/bin/time';

export interface TimedCommand {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time measured here (spawn to exit), ms. */
  wallMs: number;
  /** The child's peak RSS (MB) from /usr/bin/time -v; null without it. */
  maxRssMb: number | null;
  /** The child's user + system CPU seconds per wall second, from /usr/bin/time (null without it). */
  cpuPerWall: number | null;
  loadavgStart: number;
  loadavgEnd: number;
}

/** Parses GNU time's -v report: peak RSS (kB -> MB) and CPU per wall second. */
export function parseGnuTime(text: string): { maxRssMb: number | null; cpuPerWall: number | null; wallSeconds: number | null } {
  const rss = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(text);
  const user = /User time \(seconds\):\s*([\d.]+)/.exec(text);
  const sys = /System time \(seconds\):\s*([\d.]+)/.exec(text);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\):\s*([\d:.]+)/.exec(text);
  let wallSeconds: number | null = null;
  if (wall) wallSeconds = wall[1].split(':').reduce((s, part) => s * 60 + Number(part), 0);
  const cpu = user && sys ? Number(user[1]) + Number(sys[1]) : null;
  return {
    maxRssMb: rss ? (Number(rss[1]) * 1024) / 1e6 : null,
    cpuPerWall: cpu !== null && wallSeconds ? cpu / wallSeconds : null,
    wallSeconds,
  };
}

/** Runs a command to its end, under /usr/bin/time -v when present; stdout and stderr are kept. */
export function runTimed(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; onStderr?: (text: string) => void } = {}): Promise<TimedCommand> {
  const useTime = existsSync(GNU_TIME);
  const dir = useTime ? mkdtempSync(join(tmpdir(), 'clw-time-')) : null;
  const report = dir ? join(dir, 'time.txt') : null;
  const [cmd, argv] = report ? [GNU_TIME, ['-v', '-o', report, command, ...args]] : [command, args];
  const loadavgStart = machineNote().loadavg1;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(d.toString());
    });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs) : null;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      if (dir) rmSync(dir, { recursive: true, force: true });
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const wallMs = performance.now() - t0;
      let parsed: ReturnType<typeof parseGnuTime> = { maxRssMb: null, cpuPerWall: null, wallSeconds: null };
      if (report && existsSync(report)) parsed = parseGnuTime(readFileSync(report, 'utf8'));
      if (dir) rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr, wallMs, maxRssMb: parsed.maxRssMb, cpuPerWall: parsed.cpuPerWall, loadavgStart, loadavgEnd: machineNote().loadavg1 });
    });
  });
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

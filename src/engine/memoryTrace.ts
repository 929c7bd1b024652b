// Where a run's memory goes: with CLW_MEMORY_TRACE=1 the runner logs, at each phase boundary, the
// process's resident set (VmRSS) and its peak so far (VmHWM, what `/usr/bin/time -v` reports as
// "Maximum resident set size"), the JS heap, the ArrayBuffers outside it, and the wasm heap.
import { readFileSync } from 'node:fs';
import type { TF } from './models/types';

export function memoryTraceEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.CLW_MEMORY_TRACE && env.CLW_MEMORY_TRACE !== '0';
}

/** VmRSS and VmHWM of this process in MB (NaN where /proc is not available). */
export function residentMegabytes(): { rss: number; peak: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** Size of the wasm backend's linear memory in bytes (it never shrinks), or 0 on other backends. */
export function wasmHeapBytes(tf: TF): number {
  try {
    const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
    return backend.wasm?.HEAPU8?.buffer.byteLength ?? 0;
  } catch {
    return 0;
  }
}

/** One line describing the memory now, labelled `at`. */
export function memoryLine(at: string, tf?: TF): string {
  const { rss, peak } = residentMegabytes();
  const m = process.memoryUsage();
  const mb = (b: number) => (b / 1048576).toFixed(0);
  const parts = [`rss ${rss.toFixed(0)} MB`, `peak ${peak.toFixed(0)} MB`, `js heap ${mb(m.heapUsed)} MB`, `array buffers ${mb(m.arrayBuffers)} MB`];
  if (tf) {
    const t = tf.memory();
    parts.push(`tensors ${t.numTensors} (${mb(t.numBytes)} MB)`);
    const wasm = wasmHeapBytes(tf);
    if (wasm) parts.push(`wasm heap ${mb(wasm)} MB`);
  }
  return `memory at ${at}: ${parts.join(', ')}`;
}

/** A tracer that writes memoryLine to `write` (default stderr) when CLW_MEMORY_TRACE is set, else does nothing. */
export function memoryTracer(tf?: TF, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): (at: string) => void {
  if (!memoryTraceEnabled()) return () => undefined;
  return (at) => write(memoryLine(at, tf));
}

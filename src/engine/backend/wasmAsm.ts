/**
 * A minimal WebAssembly assembler for the engine's own SIMD kernels, and the lookup of the wasm
 * backend's memory they run over. Kernels are plain loop nests written with the helpers below
 * (each kernel file documents its pseudo-code beside it) and instantiated over the backend's own
 * memory, so they read and write tensors in place by heap byte offset.
 */
import { setFlagsFromString } from 'node:v8';

/** The slice of the WebAssembly JS API used here (the project's TS lib has no DOM/WebAssembly types). */
export interface WasmApi {
  Memory: abstract new (...args: never[]) => { buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
export const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** What a kernel receives and returns (tfjs-core's TensorInfo). */
export interface HeapTensor {
  dataId: object;
  shape: number[];
  dtype: string;
}

/** The parts of tfjs-backend-wasm's BackendWasm the engine's kernels use. */
export interface HeapBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: string): HeapTensor;
  typedArrayFromHeap(t: HeapTensor): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

/** Byte offset of a tensor in the wasm heap. */
export function heapOffset(backend: HeapBackend, t: HeapTensor): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error('tensor data is not on the wasm backend');
  return d.memoryOffset;
}

/** The wasm backend's linear memory (shared in the threaded build), or null (another backend). */
export function backendMemory(backend: unknown): { buffer: ArrayBufferLike } | null {
  if (!WA) return null;
  const wasm = (backend as { wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown } }).wasm;
  const memory = wasm?.asm?.memory ?? wasm?.wasmMemory;
  return memory instanceof WA.Memory ? memory : null;
}

/** Whether a memory is shared (the threaded build's): kernels then import it as shared. */
export function isSharedMemory(memory: { buffer: ArrayBufferLike }): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * A module's bytes with its memory import declared shared (limits 0..65536 pages, the most a 32-bit
 * memory can have): a shared memory links only to a shared import. `assembleModule` writes the
 * import section right after the type section.
 */
export function withSharedMemoryImport(bytes: Uint8Array): Uint8Array {
  let at = 8;
  const readUleb = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at++];
      v |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return v >>> 0;
      shift += 7;
    }
  };
  while (at < bytes.length) {
    const start = at;
    const id = bytes[at++];
    const size = readUleb();
    const bodyAt = at;
    if (id === 2) {
      const body = Array.from(bytes.subarray(bodyAt, bodyAt + size));
      const plain = [0x02, 0x00, 0x00]; // memory, limits without max, min 0
      const tail = body.slice(body.length - plain.length);
      if (tail.join() !== plain.join()) throw new Error('unexpected memory import in an assembled module');
      const shared = [...body.slice(0, body.length - plain.length), 0x02, 0x03, 0x00, ...uleb(65536)];
      return new Uint8Array([...bytes.subarray(0, start), 2, ...uleb(shared.length), ...shared, ...bytes.subarray(bodyAt + size)]);
    }
    at = bodyAt + size;
  }
  throw new Error('an assembled module without a memory import');
}

const instances = new WeakMap<object, Map<string, object | null>>();
/** The bytes and function names of each module instantiated over a shared memory (kernelHelper.ts instantiates them again on its thread). */
const sources = new WeakMap<object, { bytes: Uint8Array; names: string[] }>();

/** The bytes and function names behind a kernel module's exports, when it runs over a shared memory; else undefined. */
export function moduleSource(exports: object): { bytes: Uint8Array; names: string[] } | undefined {
  return sources.get(exports);
}
let disabled = false;

let fused: boolean | null = null;

function relaxedSimdValid(): boolean {
  const api = WA as unknown as { validate?: (b: Uint8Array) => boolean } | undefined;
  // A function computing relaxed_madd(0, 0, 0) and dropping it.
  const probe = assembleModule([
    { exportName: 'probe', params: 0, i32Locals: 0, v128Locals: 0, body: [...V_ZERO, ...V_ZERO, ...V_ZERO, ...F32X4_RELAXED_MADD, 0x1a] },
  ]);
  return !!api?.validate && api.validate(probe);
}

/**
 * Whether kernels multiply-add with f32x4.relaxed_madd (one fused multiply-add instruction where
 * the CPU has FMA, as every x64 and arm64 server here does; V8 compiles it the same way in both of
 * its tiers, so a machine gives the same bits every time). Node 20's V8 has relaxed SIMD behind a
 * flag, turned on here before the first kernel is compiled; Electron's V8 has it on. Off with
 * CLW_WASM_FMA=0, or when this V8 lacks it: kernels then multiply and add separately (tfjs's bits).
 */
export function wasmFmaEnabled(): boolean {
  if (fused === null) fused = process.env.CLW_WASM_FMA !== '0' && relaxedSimdAvailable();
  return fused;
}

/** Whether this V8 compiles relaxed SIMD, after turning on Node 20's flag for it if needed. */
function relaxedSimdAvailable(): boolean {
  if (!WA) return false;
  try {
    if (!relaxedSimdValid()) setFlagsFromString('--experimental-wasm-relaxed-simd');
    return relaxedSimdValid();
  } catch {
    return false;
  }
}

/** Turns fused multiply-add in kernels on (where this V8 has it) or off, e.g. to compare both numerics; returns the previous state. */
export function setWasmFmaEnabled(enabled: boolean): boolean {
  const previous = wasmFmaEnabled();
  fused = enabled && relaxedSimdAvailable();
  return previous;
}

/** Turns the engine's SIMD modules off (kernels use their JS loops), e.g. to compare the two; returns the previous state. */
export function setWasmSimdKernelsEnabled(enabled: boolean): boolean {
  const previous = !disabled;
  disabled = !enabled;
  return previous;
}

/**
 * The exports of the module `assemble()` builds, instantiated once per backend memory and key over
 * that memory; null when it cannot be (no SIMD, not the wasm backend).
 */
export function moduleFor<T>(backend: unknown, key: string, assemble: () => Uint8Array): T | null {
  if (disabled) return null;
  const memory = backendMemory(backend);
  if (!memory || !WA) return null;
  let byKey = instances.get(memory);
  if (!byKey) instances.set(memory, (byKey = new Map()));
  // Kernels assemble differently with fused multiply-add: one instance of each variant.
  key = `${key}|fma=${wasmFmaEnabled()}`;
  if (byKey.has(key)) return byKey.get(key) as T | null;
  let exports: object | null = null;
  try {
    let bytes = assemble();
    if (isSharedMemory(memory)) bytes = withSharedMemoryImport(bytes);
    exports = new WA.Instance(new WA.Module(bytes), { env: { memory } }).exports;
    if (isSharedMemory(memory)) sources.set(exports, { bytes, names: Object.keys(exports) });
  } catch (e) {
    if (process.env.CLW_DEBUG_WASM_KERNELS) console.error(`wasm SIMD module '${key}' unavailable:`, e);
  }
  byKey.set(key, exports);
  return exports as T | null;
}

// --- a minimal WebAssembly assembler -----------------------------------------------------------

export type Code = number[];
export const uleb = (n: number): Code => {
  const out: Code = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
export const sleb = (n: number): Code => {
  const out: Code = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
export const name = (s: string): Code => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
export const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];

export const I32 = 0x7f;
export const V128 = 0x7b;
export const get = (i: number): Code => [0x20, ...uleb(i)];
export const set = (i: number): Code => [0x21, ...uleb(i)];
export const tee = (i: number): Code => [0x22, ...uleb(i)];
export const i32 = (v: number): Code => [0x41, ...sleb(v)];
export const ADD = [0x6a];
export const SUB = [0x6b];
export const MUL = [0x6c];
export const LT_S = [0x48];
export const GT_S = [0x4a];
export const GE_S = [0x4e];
export const SELECT = [0x1b];
export const F32_LOAD = [0x2a, 2, 0];
export const F32_CONST_NEG_INF = [0x43, 0x00, 0x00, 0x80, 0xff];
export const simd = (op: number, ...imm: number[]): Code => [0xfd, ...uleb(op), ...imm];
export const V_LOAD = simd(0x00, 0, 0); // align hint 1 (any alignment), offset 0
/** v128.load / v128.store at a constant byte offset from the address on the stack; load32_splat (4 copies of one f32). */
export const vLoad = (offset: number): Code => simd(0x00, 0, ...uleb(offset));
export const vStore = (offset: number): Code => simd(0x0b, 0, ...uleb(offset));
export const vLoad32Splat = (offset: number): Code => simd(0x09, 2, ...uleb(offset));
export const V_STORE = simd(0x0b, 0, 0);
export const V_ZERO = simd(0x0c, ...new Array<number>(16).fill(0));
export const F32X4_SPLAT = simd(0x13);
export const F32X4_EQ = simd(0x41);
export const F32X4_GT = simd(0x44);
export const V_NOT = simd(0x4d);
export const V_AND = simd(0x4e);
export const V_ANDNOT = simd(0x4f);
export const V_OR = simd(0x50);
export const F32X4_ADD = simd(0xe4);
export const F32X4_MUL = simd(0xe6);
export const F32X4_PMAX = simd(0xeb);
/** relaxed SIMD: a * b + c, fused where the CPU has FMA. */
export const F32X4_RELAXED_MADD = simd(0x105);
/** Code leaving acc + a * b: fused (relaxed_madd) when wasmFmaEnabled(), else a multiply and an add. */
export const madd = (acc: Code, a: Code, b: Code): Code =>
  wasmFmaEnabled() ? [...a, ...b, ...acc, ...F32X4_RELAXED_MADD] : [...acc, ...a, ...b, ...F32X4_MUL, ...F32X4_ADD];
/** if (cond) { body } — cond is code leaving an i32. */
export const ifThen = (cond: Code, body: Code): Code => [...cond, 0x04, 0x40, ...body, 0x0b];
/** for (i = start; i < end; i += step) body — start/end/step are code leaving an i32 (end re-evaluated). */
export const forRange = (i: number, start: Code, end: Code, step: Code, body: Code): Code => [
  ...start, ...set(i),
  0x02, 0x40,
  ...get(i), ...end, ...GE_S, 0x0d, 0,
  0x03, 0x40,
  ...body,
  ...get(i), ...step, ...ADD, ...tee(i), ...end, ...LT_S, 0x0d, 0,
  0x0b,
  0x0b,
];
/** a < b ? a : b and a > b ? a : b for i32 code. */
export const min = (a: Code, b: Code): Code => [...a, ...b, ...a, ...b, ...LT_S, ...SELECT];
export const max = (a: Code, b: Code): Code => [...a, ...b, ...a, ...b, ...GT_S, ...SELECT];

export interface FnDef {
  exportName: string;
  params: number;
  /** Extra locals by type, in order after the params. */
  i32Locals: number;
  v128Locals: number;
  body: Code;
}

export function assembleModule(fns: FnDef[]): Uint8Array {
  const types = fns.map((f) => [0x60, ...uleb(f.params), ...new Array<number>(f.params).fill(I32), 0]);
  const typeSec = section(1, [...uleb(types.length), ...types.flat()]);
  const importSec = section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]);
  const funcSec = section(3, [...uleb(fns.length), ...fns.flatMap((_, i) => uleb(i))]);
  const exportSec = section(7, [...uleb(fns.length), ...fns.flatMap((f, i) => [...name(f.exportName), 0x00, ...uleb(i)])]);
  const bodies = fns.map((f) => {
    const locals = [...uleb(2), ...uleb(f.i32Locals), I32, ...uleb(f.v128Locals), V128];
    const b = [...locals, ...f.body, 0x0b];
    return [...uleb(b.length), ...b];
  });
  const codeSec = section(10, [...uleb(bodies.length), ...bodies.flat()]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...typeSec, ...importSec, ...funcSec, ...exportSec, ...codeSec]);
}


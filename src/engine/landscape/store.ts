// The weights a run keeps so its loss landscape can be recomputed after it (any pair of optima, any
// second axis) without retraining: the initial weights, every phase's end weights (float32, exact:
// the plane's anchors must be evaluated bitwise) and the training trajectory's checkpoints (float16
// by default: half the bytes; the trajectory only shapes axis 2 and the projected path).
//
// On disk, beside result.json: weights.bin (the raw little-endian vectors, one after the other) and
// weights.json (the index: layout, dtype, where each vector starts). The index is written last and
// both atomically, so a reader that finds weights.json finds the matching weights.bin. A trajectory
// checkpoint that is bitwise the initial or a phase's end weights is stored once, as a reference.

import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { WeightsInfo } from '../../protocol/result';
import { writeFileAtomic } from '../atomicWrite';
import { layoutSize, type ParameterLayout } from './vector';

export const WEIGHTS_INDEX_FILE = 'weights.json';
export const WEIGHTS_DATA_FILE = 'weights.bin';
const WEIGHTS_FORMAT_VERSION = 1;

export type WeightDtype = 'float16' | 'float32';

export interface WeightStore {
  layout: ParameterLayout[];
  /** Weights before training (seeded initialisation). */
  init: Float32Array;
  /** Weights after each phase, in phase order. */
  taskEnd: Float32Array[];
  /** Trajectory checkpoints over the whole run, in step order (phase -1 = before training). */
  trajectory: { step: number; phase: number; theta: Float32Array }[];
  /** Encoding of the trajectory checkpoints that are not init or a phase end (those are float32). */
  dtype: WeightDtype;
  /** Size of weights.bin in bytes (filled by read/write). */
  bytes: number;
}

/** Where a checkpoint's vector is: its own data at `offset`, or the init / a phase end's vector. */
type VectorRef = { offset: number; dtype: WeightDtype } | { ref: 'init' } | { ref: 'taskEnd'; end: number };

interface WeightsIndex {
  formatVersion: number;
  /** Byte order of weights.bin. */
  endian: 'little';
  parameterCount: number;
  dtype: WeightDtype;
  bytes: number;
  layout: ParameterLayout[];
  init: VectorRef;
  taskEnd: VectorRef[];
  trajectory: ({ step: number; phase: number } & VectorRef)[];
}

export function hasWeightStore(runDir: string): boolean {
  return existsSync(join(runDir, WEIGHTS_INDEX_FILE)) && existsSync(join(runDir, WEIGHTS_DATA_FILE));
}

// ---- float16 (IEEE 754 binary16), round to nearest even ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits nearest to x (round half to even; overflow to infinity, NaN kept). */
export function float16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: zero
    const m = mant | 0x800000; // implicit bit
    const shift = 14 - e; // 14..24
    const half = 1 << (shift - 1);
    let r = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r; // a carry into the exponent bits is the right answer (smallest normal)
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++; // a carry may round up to infinity: correct
  return sign | r;
}

/** The value of binary16 bits h. */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

export function encodeFloat16(v: Float32Array): Uint16Array {
  const out = new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = float16Bits(v[i]);
  return out;
}

export function decodeFloat16(h: Uint16Array, out = new Float32Array(h.length)): Float32Array {
  // 65,536 possible values: a table is faster than decoding each.
  const table = float16Table();
  for (let i = 0; i < h.length; i++) out[i] = table[h[i]];
  return out;
}

let table16: Float32Array | null = null;
function float16Table(): Float32Array {
  if (!table16) {
    table16 = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table16[h] = float16Value(h);
  }
  return table16;
}

/** v rounded through the store's encoding (what a write then read gives back). */
export function roundTo(dtype: WeightDtype, v: Float32Array): Float32Array {
  return dtype === 'float32' ? v : decodeFloat16(encodeFloat16(v));
}

// ---- read / write ----

const sameBits = (a: Float32Array, b: Float32Array) => {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
};

function assertLittleEndian() {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('weights.bin is little-endian; this machine is big-endian');
}

/** What the result records about a written store (RunResult.weights). */
export type WeightStoreInfo = WeightsInfo;

/** Writes weights.bin then weights.json into runDir, both atomically; returns what the result records. */
export function writeWeightStore(runDir: string, store: WeightStore): WeightStoreInfo {
  assertLittleEndian();
  const n = store.init.length;
  if (layoutSize(store.layout) !== n) throw new Error(`weight store: the layout describes ${layoutSize(store.layout)} values, init has ${n}`);
  for (const [k, v] of store.taskEnd.entries()) if (v.length !== n) throw new Error(`weight store: phase ${k}'s end weights have ${v.length} values, expected ${n}`);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const put = (v: Float32Array | Uint16Array, dtype: WeightDtype): VectorRef => {
    const at = offset;
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    chunks.push(bytes);
    offset += bytes.byteLength;
    return { offset: at, dtype };
  };
  const init = put(store.init, 'float32');
  const taskEnd = store.taskEnd.map((v) => put(v, 'float32'));
  const trajectory = store.trajectory.map((c): WeightsIndex['trajectory'][number] => {
    if (c.theta.length !== n) throw new Error(`weight store: checkpoint at step ${c.step} has ${c.theta.length} values, expected ${n}`);
    if (sameBits(c.theta, store.init)) return { step: c.step, phase: c.phase, ref: 'init' };
    const end = store.taskEnd.findIndex((v) => sameBits(c.theta, v));
    if (end >= 0) return { step: c.step, phase: c.phase, ref: 'taskEnd', end };
    return { step: c.step, phase: c.phase, ...put(store.dtype === 'float16' ? encodeFloat16(c.theta) : c.theta, store.dtype) };
  });
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.byteLength;
  }
  const index: WeightsIndex = { formatVersion: WEIGHTS_FORMAT_VERSION, endian: 'little', parameterCount: n, dtype: store.dtype, bytes: offset, layout: store.layout, init, taskEnd, trajectory };
  // An older index must not describe the new data if this write stops half-way.
  rmSync(join(runDir, WEIGHTS_INDEX_FILE), { force: true });
  writeFileAtomic(join(runDir, WEIGHTS_DATA_FILE), data);
  writeFileAtomic(join(runDir, WEIGHTS_INDEX_FILE), JSON.stringify(index));
  store.bytes = offset;
  return { file: WEIGHTS_INDEX_FILE, bytes: offset, checkpoints: store.trajectory.length, dtype: store.dtype, parameterCount: n, phases: store.taskEnd.length };
}

/** Reads the store a run wrote (throws a clear error when it is missing or does not match its data). */
export function readWeightStore(runDir: string): WeightStore {
  assertLittleEndian();
  const indexFile = join(runDir, WEIGHTS_INDEX_FILE);
  const dataFile = join(runDir, WEIGHTS_DATA_FILE);
  if (!existsSync(indexFile)) throw new Error(`${runDir} has no stored weights (${WEIGHTS_INDEX_FILE}): the run kept none (older run, "landscape": false, or it did not finish training)`);
  let index: WeightsIndex;
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8')) as WeightsIndex;
  } catch (e) {
    throw new Error(`${indexFile}: cannot read the weights index: ${(e as Error).message}`);
  }
  if (index.formatVersion > WEIGHTS_FORMAT_VERSION) throw new Error(`${indexFile}: weights format ${index.formatVersion} is newer than this version reads (${WEIGHTS_FORMAT_VERSION})`);
  if (!existsSync(dataFile) || statSync(dataFile).size !== index.bytes) {
    throw new Error(`${dataFile}: missing or not the size its index states (${index.bytes} bytes)`);
  }
  const buf = readFileSync(dataFile);
  const n = index.parameterCount;
  // Copies into aligned arrays (a Buffer's offset in its pool need not be a multiple of 4).
  const vector = (r: { offset: number; dtype: WeightDtype }): Float32Array => {
    const width = r.dtype === 'float16' ? 2 : 4;
    if (r.offset + n * width > buf.byteLength) throw new Error(`${dataFile}: a vector at byte ${r.offset} runs past the end`);
    const bytes = new Uint8Array(n * width);
    bytes.set(buf.subarray(r.offset, r.offset + n * width));
    return r.dtype === 'float16' ? decodeFloat16(new Uint16Array(bytes.buffer)) : new Float32Array(bytes.buffer);
  };
  const own = (r: VectorRef) => {
    if (!('offset' in r)) throw new Error(`${indexFile}: init and phase ends must hold their own data`);
    return vector(r);
  };
  const init = own(index.init);
  const taskEnd = index.taskEnd.map(own);
  const trajectory = index.trajectory.map((c) => {
    let theta: Float32Array;
    if ('offset' in c) theta = vector(c);
    else if (c.ref === 'init') theta = init;
    else {
      const v = taskEnd[c.end];
      if (!v) throw new Error(`${indexFile}: checkpoint at step ${c.step} refers to phase end ${c.end}, which is not stored`);
      theta = v;
    }
    return { step: c.step, phase: c.phase, theta };
  });
  return { layout: index.layout, init, taskEnd, trajectory, dtype: index.dtype, bytes: index.bytes };
}

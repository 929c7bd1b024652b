// Flat weight-vector maths for the loss landscape, and the bridge between a ClassifierModel's
// variables and one flat Float32Array (in `model.params` order).
//
// Vectors are Float32Array (weights as the model holds them) or Float64Array (directions, so that
// theta_A + 1 * (theta_B - theta_A) reproduces theta_B exactly; see compute.ts). Reductions always
// accumulate in float64 (JS numbers).

import type { ClassifierModel, ParameterKind, TF } from '../models/types';

export type Vec = Float32Array | Float64Array;

/** Where one model parameter lives in the flat vector. */
export interface ParameterLayout {
  name: string;
  kind: ParameterKind;
  /** conv kernels [kh, kw, in, out]; dense kernels [in, out]; biases [out]. */
  shape: number[];
  /** First index in the flat vector. */
  offset: number;
  /** Number of elements (product of shape). */
  size: number;
}

function sameLength(a: { length: number }, b: { length: number }, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: vector lengths differ (${a.length} vs ${b.length})`);
}

/** <a, b>, accumulated in float64. */
export function dot(a: Vec, b: Vec): number {
  sameLength(a, b, 'dot');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Euclidean norm |a|. */
export function norm(a: Vec): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** y += alpha * x, in place; returns y. */
export function axpy<T extends Vec>(alpha: number, x: Vec, y: T): T {
  sameLength(x, y, 'axpy');
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
  return y;
}

/** out = s * x (in place when out is x, the default); returns out. */
export function scale<T extends Vec>(x: T, s: number, out: Vec = x): T {
  sameLength(x, out, 'scale');
  for (let i = 0; i < x.length; i++) out[i] = s * x[i];
  return out as T;
}

/**
 * out = a - b; out defaults to a new Float64Array, in which the difference of two float32 vectors
 * is exact (for any two float32 values within 2^29 of each other in magnitude).
 */
export function sub<T extends Vec = Float64Array>(a: Vec, b: Vec, out?: T): T {
  sameLength(a, b, 'sub');
  const o = (out ?? new Float64Array(a.length)) as T;
  sameLength(a, o, 'sub');
  for (let i = 0; i < a.length; i++) o[i] = a[i] - b[i];
  return o;
}

/** Total number of elements described by a layout. */
export function layoutSize(layout: readonly ParameterLayout[]): number {
  return layout.reduce((n, p) => Math.max(n, p.offset + p.size), 0);
}

/** The flat layout of a model's trainable parameters, in `model.params` order. */
export function layoutOf(model: ClassifierModel): ParameterLayout[] {
  let offset = 0;
  return model.params.map((p) => {
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (size !== p.variable.size) throw new Error(`parameter ${p.name}: shape [${p.shape.join(', ')}] does not match its variable (${p.variable.size} elements)`);
    const entry: ParameterLayout = { name: p.name, kind: p.kind, shape: [...p.shape], offset, size };
    offset += size;
    return entry;
  });
}

/** One flat float32 copy of all the model's parameters (one host read per variable). */
export function readParameters(tf: TF, model: ClassifierModel): Float32Array {
  void tf; // kept in the signature for symmetry with writeParameters; reads need no tfjs ops
  const total = model.params.reduce((n, p) => n + p.variable.size, 0);
  const flat = new Float32Array(total);
  let offset = 0;
  for (const p of model.params) {
    const values = p.variable.dataSync();
    if (values.length !== p.variable.size) throw new Error(`parameter ${p.name}: read ${values.length} values, expected ${p.variable.size}`);
    flat.set(values as Float32Array, offset);
    offset += values.length;
  }
  return flat;
}

// Backends whose write() copies the values into their own memory; the cpu (and webgl, until the
// upload) backends keep a reference to the array they are given, so a reused point buffer must be
// copied for them or the weights would silently change when the buffer is next overwritten.
const COPYING_BACKENDS = new Set(['wasm', 'tensorflow']);

/**
 * Assigns a flat vector to the model's existing variables, in place (no rebuild): one
 * `variable.assign(tensor)` per parameter, temporaries disposed. `flat` may be reused and
 * overwritten by the caller afterwards.
 */
export function writeParameters(tf: TF, model: ClassifierModel, flat: Float32Array): void {
  const total = model.params.reduce((n, p) => n + p.variable.size, 0);
  if (flat.length !== total) throw new Error(`writeParameters: the vector has ${flat.length} values, the model has ${total} parameters`);
  const copy = !COPYING_BACKENDS.has(tf.getBackend());
  let offset = 0;
  for (const p of model.params) {
    const size = p.variable.size;
    const view = flat.subarray(offset, offset + size);
    const t = tf.tensor(copy ? view.slice() : view, p.variable.shape, 'float32');
    try {
      p.variable.assign(t);
    } finally {
      t.dispose();
    }
    offset += size;
  }
}

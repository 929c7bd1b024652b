// The second axis of the landscape plane: a filter-normalised random direction (Li et al. 2018,
// "Visualizing the Loss Landscape of Neural Nets") or the dominant principal direction of the
// training trajectory with the theta_A -> theta_B component removed. Both are Gram-Schmidt
// orthogonalised against axis 1 (d1 = theta_B - theta_A) and rescaled to |d1|, so the plane's two
// coordinates are in the same distance units.

import { createRng, deriveSeed, gaussian } from '../random';
import { dot, layoutSize, norm, sub, type ParameterLayout, type Vec } from './vector';

/** A trajectory: flat weight vectors, or checkpoints carrying one. */
export type Trajectory = readonly (Vec | { theta: Vec })[];

const thetaOf = (c: Vec | { theta: Vec }): Vec => ('theta' in c ? c.theta : c);

/**
 * Filter normalisation in place: per filter, scale `direction` to the norm of the matching filter of
 * `reference`. Conv kernels [kh, kw, in, out] and dense kernels [in, out] both have their filters
 * along the LAST axis (a dense layer's output unit is its column), so element i belongs to filter
 * i % out. Biases are zeroed (Li et al.'s default, as in the PyTorch reference). A filter of the
 * direction with zero norm stays zero.
 */
export function filterNormalize(direction: Vec, reference: Vec, layout: readonly ParameterLayout[]): Vec {
  if (direction.length !== reference.length) throw new Error(`filterNormalize: direction has ${direction.length} values, reference ${reference.length}`);
  if (layoutSize(layout) > direction.length) throw new Error(`filterNormalize: the layout needs ${layoutSize(layout)} values, the vectors have ${direction.length}`);
  for (const p of layout) {
    const { offset, size } = p;
    if (p.kind === 'bias' || p.shape.length < 2) {
      direction.fill(0, offset, offset + size);
      continue;
    }
    const out = p.shape[p.shape.length - 1];
    const dn = new Float64Array(out);
    const wn = new Float64Array(out);
    for (let i = 0; i < size; i++) {
      const f = i % out;
      const d = direction[offset + i];
      const w = reference[offset + i];
      dn[f] += d * d;
      wn[f] += w * w;
    }
    const factor = new Float64Array(out);
    for (let f = 0; f < out; f++) factor[f] = dn[f] > 0 ? Math.sqrt(wn[f]) / Math.sqrt(dn[f]) : 0;
    for (let i = 0; i < size; i++) direction[offset + i] *= factor[i % out];
  }
  return direction;
}

/** A seeded Gaussian direction, filter-normalised against `reference` (not yet orthogonalised). */
export function filterNormalizedRandomDirection(layout: readonly ParameterLayout[], reference: Vec, seed: number): Float64Array {
  const rng = createRng(deriveSeed(seed, 'landscape-direction'));
  const d = new Float64Array(reference.length);
  for (let i = 0; i < d.length; i++) d[i] = gaussian(rng);
  filterNormalize(d, reference, layout);
  return d;
}

/**
 * Gram-Schmidt against axis 1, then rescale to |d1|: returns d - (<d,d1>/|d1|^2) d1, scaled to
 * norm |d1| (a new Float64Array; d is untouched). Throws when nothing of d is left.
 */
export function orthogonalizeAndRescale(d: Vec, d1: Vec): Float64Array {
  const n11 = dot(d1, d1);
  if (!(n11 > 0)) throw new Error('the plane needs theta_A != theta_B (|theta_B - theta_A| = 0)');
  const out = Float64Array.from(d);
  // Two passes: the second removes what rounding left of the d1 component after the first.
  for (let pass = 0; pass < 2; pass++) {
    const c = dot(out, d1) / n11;
    for (let i = 0; i < out.length; i++) out[i] -= c * d1[i];
  }
  const n = norm(out);
  if (!(n > 1e-12 * Math.sqrt(n11))) throw new Error('the second direction is (almost) parallel to theta_B - theta_A');
  const s = Math.sqrt(n11) / n;
  for (let i = 0; i < out.length; i++) out[i] *= s;
  return out;
}

export interface PcaDirection {
  /** Axis 2: orthogonal to d1, norm |d1|. */
  direction: Float64Array;
  /** True when the trajectory had no usable residual and the fallback (random) direction was used. */
  fallback: boolean;
  /** Why the fallback was used. */
  reason?: string;
  /** Share of the residual variance (after removing d1 and the mean) along the chosen direction. */
  residualShare?: number;
}

const CHUNK = 2048;

/**
 * The PCA uses at most this many checkpoints, evenly spaced over the trajectory (first and last
 * always in): the Gram matrix costs T^2 n / 2 multiply-adds (T = 128, n = 225k: ~1.8e9, about 1-2 s
 * here). The projected trajectory and the explained variance use every checkpoint.
 */
export const PCA_MAX_CHECKPOINTS = 128;

function evenlySpaced<T>(items: T[], max: number): T[] {
  if (items.length <= max || max < 2) return items;
  return Array.from({ length: max }, (_, k) => items[Math.round((k * (items.length - 1)) / (max - 1))]);
}

/** Mean of the trajectory's vectors, in float64. */
function meanOf(thetas: readonly Vec[], n: number): Float64Array {
  const m = new Float64Array(n);
  for (const t of thetas) for (let i = 0; i < n; i++) m[i] += t[i];
  for (let i = 0; i < n; i++) m[i] /= thetas.length;
  return m;
}

/**
 * Dominant principal direction of the trajectory residuals: each checkpoint minus the trajectory
 * mean, with its component along d1 removed. Power iteration on the small T x T Gram matrix of the
 * residuals (T = number of checkpoints), computed in cache-sized chunks of the parameter vector, so
 * no T x n residual matrix is ever held. The result is orthogonalised to d1 and rescaled to |d1|;
 * its sign makes the projected beta increase with checkpoint order (on average).
 *
 * At most `maxCheckpoints` evenly spaced checkpoints enter the PCA.
 *
 * Falls back to `fallback()` (then orthogonalised and rescaled too) when the residual is ~0: fewer
 * than 3 checkpoints, a trajectory along the d1 line, or all checkpoints equal.
 */
export function trajectoryPcaDirection(checkpoints: Trajectory, d1: Vec, fallback: () => Vec, maxCheckpoints = PCA_MAX_CHECKPOINTS): PcaDirection {
  const useFallback = (reason: string): PcaDirection => ({ direction: orthogonalizeAndRescale(fallback(), d1), fallback: true, reason });
  const thetas = evenlySpaced(checkpoints.map(thetaOf), maxCheckpoints);
  const T = thetas.length;
  const n = d1.length;
  for (const t of thetas) if (t.length !== n) throw new Error(`trajectory checkpoint has ${t.length} values, expected ${n}`);
  const n11 = dot(d1, d1);
  if (!(n11 > 0)) throw new Error('the plane needs theta_A != theta_B (|theta_B - theta_A| = 0)');
  if (T < 3) return useFallback(`only ${T} trajectory checkpoint${T === 1 ? '' : 's'} (needs 3)`);

  const mean = meanOf(thetas, n);
  // G[i][j] = <z_i, z_j>, e[k] = <z_k, d1>, with z_k = theta_k - mean; chunked over parameters.
  const G = new Float64Array(T * T);
  const e = new Float64Array(T);
  const Z = new Float64Array(T * CHUNK);
  for (let p0 = 0; p0 < n; p0 += CHUNK) {
    const len = Math.min(CHUNK, n - p0);
    for (let k = 0; k < T; k++) {
      const t = thetas[k];
      const row = k * CHUNK;
      let ek = 0;
      for (let q = 0; q < len; q++) {
        const z = t[p0 + q] - mean[p0 + q];
        Z[row + q] = z;
        ek += z * d1[p0 + q];
      }
      e[k] += ek;
    }
    accumulateGram(G, Z, T, CHUNK, len);
  }
  // Residual Gram: <P z_i, P z_j> = <z_i, z_j> - e_i e_j / |d1|^2, P = projection orthogonal to d1.
  const R = new Float64Array(T * T);
  let traceZ = 0;
  let traceR = 0;
  for (let i = 0; i < T; i++) {
    for (let j = 0; j <= i; j++) {
      const v = G[i * T + j] - (e[i] * e[j]) / n11;
      R[i * T + j] = v;
      R[j * T + i] = v;
    }
    traceZ += G[i * T + i];
    traceR += R[i * T + i];
  }
  if (!(traceZ > 0)) return useFallback('all trajectory checkpoints are equal');
  if (!(traceR > 1e-10 * traceZ)) return useFallback('the trajectory has no component off the theta_A -> theta_B line');

  const { vector: v, value: lambda } = powerIteration(R, T);
  if (!(lambda > 1e-12 * traceR)) return useFallback('the trajectory residual has no dominant direction');

  // Sign: beta_k is proportional to v_k; make it increase with checkpoint order.
  let corr = 0;
  for (let k = 0; k < T; k++) corr += v[k] * (k - (T - 1) / 2);
  if (corr < 0 || (corr === 0 && v[argMaxAbs(v)] < 0)) for (let k = 0; k < T; k++) v[k] = -v[k];

  // u = sum_k v_k P z_k = sum_k v_k z_k - (sum_k v_k e_k / |d1|^2) d1.
  const u = new Float64Array(n);
  for (let k = 0; k < T; k++) {
    const t = thetas[k];
    const vk = v[k];
    if (vk === 0) continue;
    for (let i = 0; i < n; i++) u[i] += vk * (t[i] - mean[i]);
  }
  let ve = 0;
  for (let k = 0; k < T; k++) ve += v[k] * e[k];
  const c = ve / n11;
  for (let i = 0; i < n; i++) u[i] -= c * d1[i];
  if (!(norm(u) > 0)) return useFallback('the trajectory residual vanished');
  return { direction: orthogonalizeAndRescale(u, d1), fallback: false, residualShare: lambda / traceR };
}

/**
 * G[i*T + j] += <Z_i, Z_j> over the first len columns, for j <= i (lower triangle); Z is T rows of
 * stride `stride`. Register-blocked 2 rows x 4 rows (about 3x the plain double loop in V8); each
 * dot is still summed in q order, so the result is the same as the plain loop's.
 */
function accumulateGram(G: Float64Array, Z: Float64Array, T: number, stride: number, len: number): void {
  const rowDot = (i: number, j: number) => {
    const ri = i * stride;
    const rj = j * stride;
    let s = 0;
    for (let q = 0; q < len; q++) s += Z[ri + q] * Z[rj + q];
    G[i * T + j] += s;
  };
  for (let i = 0; i < T; i += 2) {
    const pair = i + 1 < T;
    const ra = i * stride;
    const rb = pair ? ra + stride : ra;
    let j = 0;
    for (; j + 3 <= i; j += 4) {
      const r0 = j * stride;
      const r1 = r0 + stride;
      const r2 = r1 + stride;
      const r3 = r2 + stride;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0; // prettier-ignore
      for (let q = 0; q < len; q++) {
        const za = Z[ra + q];
        const zb = Z[rb + q];
        const y0 = Z[r0 + q];
        const y1 = Z[r1 + q];
        const y2 = Z[r2 + q];
        const y3 = Z[r3 + q];
        a0 += za * y0;
        a1 += za * y1;
        a2 += za * y2;
        a3 += za * y3;
        b0 += zb * y0;
        b1 += zb * y1;
        b2 += zb * y2;
        b3 += zb * y3;
      }
      const ga = i * T + j;
      G[ga] += a0;
      G[ga + 1] += a1;
      G[ga + 2] += a2;
      G[ga + 3] += a3;
      if (pair) {
        const gb = ga + T;
        G[gb] += b0;
        G[gb + 1] += b1;
        G[gb + 2] += b2;
        G[gb + 3] += b3;
      }
    }
    for (let jj = j; jj <= i; jj++) rowDot(i, jj);
    if (pair) for (let jj = j; jj <= i + 1; jj++) rowDot(i + 1, jj);
  }
}

function argMaxAbs(v: Float64Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[best])) best = i;
  return best;
}

/** Top eigenpair of a symmetric positive semi-definite T x T matrix (row-major) by power iteration. */
export function powerIteration(M: Float64Array, T: number, maxIterations = 3000, tolerance = 1e-11): { vector: Float64Array; value: number } {
  // Start from the column with the largest diagonal entry (never orthogonal to the top eigenvector
  // unless that column is zero), plus a tiny deterministic spread so ties cannot stall it.
  let start = 0;
  for (let i = 1; i < T; i++) if (M[i * T + i] > M[start * T + start]) start = i;
  let v = new Float64Array(T);
  for (let i = 0; i < T; i++) v[i] = M[i * T + start] + 1e-3 * Math.abs(M[start * T + start]) * Math.sin(i + 1) / T;
  let w = new Float64Array(T);
  let nv = 0;
  for (let i = 0; i < T; i++) nv += v[i] * v[i];
  nv = Math.sqrt(nv);
  if (!(nv > 0)) return { vector: v, value: 0 };
  for (let i = 0; i < T; i++) v[i] /= nv;
  let value = 0;
  for (let it = 0; it < maxIterations; it++) {
    for (let i = 0; i < T; i++) {
      let s = 0;
      const r = i * T;
      for (let j = 0; j < T; j++) s += M[r + j] * v[j];
      w[i] = s;
    }
    let nw = 0;
    for (let i = 0; i < T; i++) nw += w[i] * w[i];
    nw = Math.sqrt(nw);
    if (!(nw > 0)) return { vector: v, value: 0 };
    let change = 0;
    let rq = 0;
    for (let i = 0; i < T; i++) {
      rq += v[i] * w[i];
      w[i] /= nw;
      change = Math.max(change, Math.abs(w[i] - v[i]));
    }
    value = rq;
    [v, w] = [w, v];
    if (change < tolerance) break;
  }
  nv = 0;
  for (let i = 0; i < T; i++) nv += v[i] * v[i];
  for (let i = 0; i < T; i++) v[i] /= Math.sqrt(nv);
  // Final Rayleigh quotient for the returned vector.
  let rq = 0;
  for (let i = 0; i < T; i++) {
    let s = 0;
    for (let j = 0; j < T; j++) s += M[i * T + j] * v[j];
    rq += v[i] * s;
  }
  return { vector: v, value: Number.isFinite(rq) ? rq : value };
}

/**
 * Fraction of the trajectory's variance about its mean that the plane span(d1, d2) captures:
 * sum_k |Q z_k|^2 / sum_k |z_k|^2, z_k = theta_k - mean, Q = orthogonal projection onto the plane
 * (d2 is re-orthogonalised against d1 here, so any two independent axes work). 0 when the trajectory
 * has no variance (fewer than 2 distinct checkpoints).
 */
export function explainedVariance(checkpoints: Trajectory, d1: Vec, d2: Vec): number {
  const thetas = checkpoints.map(thetaOf);
  const T = thetas.length;
  const n = d1.length;
  if (T < 2) return 0;
  const n1 = norm(d1);
  if (!(n1 > 0)) return 0;
  const q1 = Float64Array.from(d1, (x) => x / n1);
  const q2 = Float64Array.from(d2);
  const c = dot(q2, q1);
  for (let i = 0; i < n; i++) q2[i] -= c * q1[i];
  const n2 = norm(q2);
  const hasQ2 = n2 > 1e-12 * norm(d2);
  if (hasQ2) for (let i = 0; i < n; i++) q2[i] /= n2;
  const mean = meanOf(thetas, n);
  let total = 0;
  let captured = 0;
  for (const t of thetas) {
    let zz = 0;
    let z1 = 0;
    let z2 = 0;
    for (let i = 0; i < n; i++) {
      const z = t[i] - mean[i];
      zz += z * z;
      z1 += z * q1[i];
      z2 += z * q2[i];
    }
    total += zz;
    captured += z1 * z1 + (hasQ2 ? z2 * z2 : 0);
  }
  if (!(total > 0)) return 0;
  return Math.min(1, Math.max(0, captured / total));
}

export interface Plane {
  /** Axis 1: theta_B - theta_A, exact in float64. */
  d1: Float64Array;
  /** Axis 2: orthogonal to d1, |d2| = |d1|. */
  d2: Float64Array;
  /** |d1|. */
  distance: number;
  /** What axis 2 actually is (a requested trajectory-pca may fall back to random). */
  secondAxis: 'trajectory-pca' | 'random';
  /** Why trajectory-pca fell back to a random direction. */
  fallbackReason?: string;
}

/**
 * The landscape plane through theta_A and theta_B. The random direction is filter-normalised
 * against theta_B (as the PyTorch reference does) and seeded from `seed` (stream
 * 'landscape-direction'), so the same inputs give the same plane.
 */
export function buildPlane(opts: {
  thetaA: Vec;
  thetaB: Vec;
  checkpoints: Trajectory;
  layout: readonly ParameterLayout[];
  secondAxis: 'trajectory-pca' | 'random';
  seed: number;
}): Plane {
  const { thetaA, thetaB, layout, seed } = opts;
  if (thetaA.length !== thetaB.length) throw new Error(`theta_A has ${thetaA.length} values, theta_B ${thetaB.length}`);
  if (layoutSize(layout) !== thetaA.length) throw new Error(`the parameter layout describes ${layoutSize(layout)} values, theta has ${thetaA.length}`);
  const d1 = sub(thetaB, thetaA);
  const distance = norm(d1);
  if (!(distance > 0)) throw new Error('theta_A and theta_B are identical: the landscape plane needs two different optima');
  const random = () => filterNormalizedRandomDirection(layout, thetaB, seed);
  if (opts.secondAxis === 'trajectory-pca') {
    const pca = trajectoryPcaDirection(opts.checkpoints, d1, random);
    return {
      d1,
      d2: pca.direction,
      distance,
      secondAxis: pca.fallback ? 'random' : 'trajectory-pca',
      ...(pca.fallback ? { fallbackReason: pca.reason } : {}),
    };
  }
  return { d1, d2: orthogonalizeAndRescale(random(), d1), distance, secondAxis: 'random' };
}

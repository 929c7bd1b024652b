// Plane through three models (Li et al. 2018; `planar_interpolation` in the loss-landscapes
// package) and least-squares projection of any weight vector onto it, with the distance off it.
//
// Origin theta_A, axis u = theta_B - theta_A (exact in float64), axis v = (theta_C - theta_A)
// Gram-Schmidt-orthogonalised against u and rescaled to |u|: coordinates are in units of |u|, as
// LandscapeResult's, so theta_A = (0,0), theta_B = (1,0) and theta_C = (alpha_C, beta_C), beta_C > 0.

import type { PlaneProjection } from '../../protocol/landscape';
import { orthogonalizeAndRescale } from './directions';
import { dot, norm, sub, type Vec } from './vector';

export interface PlaneBasis {
  origin: Float32Array;
  /** theta_B - theta_A. */
  u: Float64Array;
  /** Orthogonal to u, |v| = |u|. */
  v: Float64Array;
  /** |u|: the coordinates' unit. */
  distance: number;
  /** Gram matrix of (u, v), for the least-squares solve. */
  gram: { uu: number; uv: number; vv: number };
}

/** The plane through thetaA, thetaB and thetaC; throws when the three are (nearly) collinear. */
export function planeThroughThree(thetaA: Float32Array, thetaB: Vec, thetaC: Vec): PlaneBasis {
  if (thetaA.length !== thetaB.length || thetaA.length !== thetaC.length) {
    throw new Error(`plane through three models: vector lengths differ (${thetaA.length}, ${thetaB.length}, ${thetaC.length}): the runs have different models`);
  }
  const u = sub(thetaB, thetaA);
  const distance = norm(u);
  if (!(distance > 0)) throw new Error('theta_A and theta_B are identical: the plane needs two different optima');
  let v: Float64Array;
  try {
    v = orthogonalizeAndRescale(sub(thetaC, thetaA), u);
  } catch {
    throw new Error('the third point lies on the line through theta_A and theta_B: it does not span a plane with them');
  }
  return planeFromAxes(thetaA, u, v);
}

/** A plane from an origin and two independent axes (not necessarily orthogonal). */
export function planeFromAxes(origin: Float32Array, u: Float64Array, v: Float64Array): PlaneBasis {
  return { origin, u, v, distance: norm(u), gram: { uu: dot(u, u), uv: dot(u, v), vv: dot(v, v) } };
}

/**
 * Least-squares coordinates of theta on the plane: argmin |theta - origin - alpha u - beta v|,
 * from the 2x2 normal equations (exact for non-orthogonal axes too), and the residual's norm.
 */
export function projectOntoPlane(plane: PlaneBasis, theta: Vec): PlaneProjection {
  const { origin, u, v, distance } = plane;
  const n = origin.length;
  if (theta.length !== n) throw new Error(`projection: the vector has ${theta.length} values, the plane's ${n}`);
  let yu = 0;
  let yv = 0;
  for (let i = 0; i < n; i++) {
    const y = theta[i] - origin[i];
    yu += y * u[i];
    yv += y * v[i];
  }
  const { uu, uv, vv } = plane.gram;
  const det = uu * vv - uv * uv;
  const alpha = (yu * vv - yv * uv) / det;
  const beta = (yv * uu - yu * uv) / det;
  let r2 = 0;
  for (let i = 0; i < n; i++) {
    const r = theta[i] - origin[i] - alpha * u[i] - beta * v[i];
    r2 += r * r;
  }
  const offPlane = Math.sqrt(r2);
  return { alpha, beta, offPlane, offPlaneRelative: offPlane / distance };
}

// The compare layout's view model: the comparison and how it is looked at (groups or runs, the two
// compared in the difference, the table's sort, the sweep's metric). Kept in the webview state.
import type { CompareMetric, Comparison } from '../../protocol/compare';
import { defaultLevel, matrixEntities, type CompareLevel, type SortKey } from './model';

export interface CompareSubject {
  comparison: Comparison;
  level: CompareLevel;
  /** Indices (at the current level) of A and B in the difference B − A. */
  a: number;
  b: number;
  sort: SortKey | null;
  sweepMetric: CompareMetric;
}

/** The first view of a comparison: groups (or runs when every group is one run), the first two compared. */
export function compareSubject(comparison: Comparison, previous?: Partial<CompareSubject>): CompareSubject {
  const level = previous?.level ?? defaultLevel(comparison);
  const n = matrixEntities(comparison, level).length;
  const a = previous?.a !== undefined && previous.a < n ? previous.a : 0;
  let b = previous?.b !== undefined && previous.b < n ? previous.b : Math.min(1, n - 1);
  // A comparison that grew (a sweep's runs finishing after the panel opened): A and B were the one
  // entity there was; now there are two to tell apart.
  if (b === a && n > 1) b = a === 0 ? 1 : 0;
  return { comparison, level, a, b, sort: previous?.sort ?? null, sweepMetric: previous?.sweepMetric ?? 'acc' };
}

/** The subject at another level: A and B reset to the first two there. */
export function withLevel(s: CompareSubject, level: CompareLevel): CompareSubject {
  return compareSubject(s.comparison, { sort: s.sort, sweepMetric: s.sweepMetric, level });
}

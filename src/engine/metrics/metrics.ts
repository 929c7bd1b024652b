import type { Metrics } from '../../protocol/result';

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/**
 * Continual-learning metrics from an accuracy matrix R (rows so far: R[i][j] = accuracy on task j
 * after training task i) and the random-init accuracies b. With k rows, the metrics describe the
 * sequence of the first k tasks, so a cancelled run still gets honest numbers for what it did.
 * `seenTasks` (default k) is the number of tasks trained so far; when it differs from k (joint
 * training: one row after all tasks) only ACC is defined.
 *   ACC = mean_{j<k} R[k-1][j]
 *   BWT = mean_{j<k-1} R[k-1][j] - R[j][j]            (Lopez-Paz & Ranzato 2017)
 *   FWT = mean_{1<=j<k} R[j-1][j] - b_j                (Lopez-Paz & Ranzato 2017)
 *   f_j = max_{l<k-1} R[l][j] - R[k-1][j], j<k-1;  Forgetting = mean_j f_j   (Chaudhry et al. 2018)
 */
export function computeMetrics(R: number[][], b: number[], seenTasks: number = R.length): Metrics {
  const k = R.length;
  if (k === 0) return { acc: null, bwt: null, fwt: null, forgetting: null, forgettingPerTask: [], learningAccuracy: null };
  if (seenTasks !== k) {
    // Rows are not one per task (joint training: one row over every task): only ACC is defined.
    return { acc: mean(R[k - 1].slice(0, seenTasks)), bwt: null, fwt: null, forgetting: null, forgettingPerTask: [], learningAccuracy: null };
  }
  for (let i = 0; i < k; i++) {
    if (!Array.isArray(R[i]) || R[i].length < k) throw new Error(`accuracy matrix row ${i} has ${R[i]?.length ?? 0} entries, needs at least ${k}`);
  }
  const last = R[k - 1];
  const acc = mean(last.slice(0, k));
  const earlier = Array.from({ length: k - 1 }, (_, j) => j);
  const bwt = mean(earlier.map((j) => last[j] - R[j][j]));
  const fwt = b.length >= k ? mean(Array.from({ length: k - 1 }, (_, m) => m + 1).map((j) => R[j - 1][j] - b[j])) : null;
  const forgettingPerTask: (number | null)[] = Array.from({ length: k }, (_, j) => {
    if (j >= k - 1) return null;
    let best = -Infinity;
    for (let l = 0; l < k - 1; l++) best = Math.max(best, R[l][j]);
    return best - last[j];
  });
  const forgetting = mean(forgettingPerTask.filter((f): f is number => f !== null));
  const learningAccuracy = mean(Array.from({ length: k }, (_, j) => R[j][j]));
  return { acc, bwt, fwt, forgetting, forgettingPerTask, learningAccuracy };
}

/**
 * Intransigence (Chaudhry et al. 2018): mean_j R*_j - R[j][j], with R*_j the accuracy on task j of
 * a reference trained jointly on the tasks (the last row of a joint run). How much less the
 * continual learner learned each task than it could have. Null without a full diagonal.
 */
export function intransigence(R: number[][], jointRow: number[]): number | null {
  const k = R.length;
  if (k === 0 || jointRow.length < k) return null;
  return mean(Array.from({ length: k }, (_, j) => jointRow[j] - R[j][j]));
}

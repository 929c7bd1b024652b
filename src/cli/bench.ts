// `continual-workbench bench`: throughput of the engine's training step and landscape evaluation,
// each reported as a ratio against a reference measured in the same run (the machines are noisy).
import { loadBackend } from '../engine/backend';
import { benchTrainingStep, SMALL_CNN_TRAIN_FLOPS_PER_IMAGE } from '../engine/bench/kernels';
import { benchLandscape } from '../engine/bench/landscape';
import { MODEL_PRESETS } from '../engine/config/load';
import { buildModel } from '../engine/models/build';
import type { EvalSet } from '../engine/models/types';
import { createRng, gaussian } from '../engine/random';

export async function runBenchmarks(quick: boolean): Promise<void> {
  const { tf, info } = await loadBackend('auto');
  process.stdout.write(`backend ${info.backend} (tfjs ${info.tfjsVersion}, ${info.threads} thread(s), simd ${info.simd ?? '?'}), ${info.cpus} cpus\n`);

  const step = await benchTrainingStep(tf, { rounds: quick ? 1 : 2, maxSeconds: quick ? 8 : 20 });
  const gflops = (step.imagesPerSecond * SMALL_CNN_TRAIN_FLOPS_PER_IMAGE) / 1e9;
  process.stdout.write(
    `train step (small CNN, batch ${step.batchSize}): ${step.imagesPerSecond.toFixed(0)} img/s (${step.msPerStep.toFixed(1)} ms/step, ${gflops.toFixed(1)} GFLOP/s effective)\n`,
  );
  if (step.builtinImagesPerSecond !== null) {
    process.stdout.write(`  tfjs built-in kernels, same run: ${step.builtinImagesPerSecond.toFixed(0)} img/s -> speed-up x${step.speedup!.toFixed(2)}\n`);
  }
  if (step.matmulGflops !== null) process.stdout.write(`  matmul ${step.matmulSize}^3: ${step.matmulGflops.toFixed(1)} GFLOP/s (arithmetic ceiling reference)\n`);
  for (const p of step.profile.slice(0, 6)) process.stdout.write(`  ${p.kernel.padEnd(24)} ${p.ms.toFixed(1).padStart(7)} ms/step (${p.calls} calls)\n`);

  // Landscape: evaluation of grid points on the small CNN, 2 tasks x 1000 images (the default).
  const rng = createRng(1);
  const sets: EvalSet[] = [0, 1].map(() => {
    const n = 1000;
    const x = new Float32Array(n * 784).map(() => gaussian(rng));
    const y = new Int32Array(n).map(() => Math.floor(rng() * 10));
    return { images: tf.tensor4d(x, [n, 28, 28, 1]), labels: tf.tensor1d(y, 'int32') };
  });
  const model = buildModel(tf, MODEL_PRESETS['small-cnn'], [28, 28, 1], 10, 0);
  const land = await benchLandscape(tf, model, sets, { grid: quick ? 3 : 5, pool: { spec: MODEL_PRESETS['small-cnn'] } });
  process.stdout.write(
    `landscape: ${land.msPerPoint.toFixed(0)} ms/point (eval ${land.evalMsPerPoint.toFixed(0)} ms, overhead ${land.overheadMsPerPoint.toFixed(1)} ms = ` +
      `${((100 * land.overheadMsPerPoint) / land.msPerPoint).toFixed(1)}% of a point), ${land.imagesPerSecond.toFixed(0)} img/s; ` +
      `21x21 projected ${(land.projected21x21Ms / 1000).toFixed(0)} s\n`,
  );
  process.stdout.write(`  evaluation vs training throughput, same run: x${(land.imagesPerSecond / step.imagesPerSecond).toFixed(2)}\n`);
  if (land.pool) {
    process.stdout.write(
      `  worker pool (${land.pool.size} workers): ${land.pool.msPerPoint.toFixed(0)} ms/point -> speed-up x${land.pool.speedup.toFixed(2)} over in-process, ` +
        `results ${land.pool.identical ? 'bitwise identical' : 'DIFFERENT'}\n`,
    );
  }
  model.dispose();
  for (const s of sets) {
    s.images.dispose();
    s.labels.dispose();
  }
}

// One task of a scenario from its spec: the dataset resolved and loaded, the task's classes kept,
// the seeded stratified subsets taken, and the pixel permutation or rotation applied (on bytes,
// before normalisation). The head (engine/train/head.ts) then maps the classes to output units.
import type { TaskSpec } from '../../../protocol/experiment';
import { deriveSeed } from '../../random';
import { loadDataset } from '../load';
import { resolveDataset, type ResolveOptions, type ResolvedDataset } from '../resolve';
import { stratifiedSubset } from '../subset';
import { examplesOfClasses, permuteImages, pixelPermutation, rotateImages } from './transforms';

export interface TaskImages {
  /** n images of h*w bytes. */
  images: Uint8Array;
  /** The dataset's labels. */
  labels: Uint8Array;
  n: number;
}

export interface TaskData {
  index: number;
  spec: TaskSpec;
  resolved: ResolvedDataset;
  label: string;
  /** The dataset's label ids in this task, in target order. */
  classIds: number[];
  /** Identifies the input distribution: the same class in two tasks with equal domains is one class (class-IL). */
  domain: string;
  shape: [number, number, number];
  train: TaskImages;
  test: TaskImages;
  /** Normalisation of pixel/255: (x/255 - mean) / std (the dataset's). */
  mean: number;
  std: number;
}

function select(images: Uint8Array, labels: Uint8Array, pixels: number, indices: Int32Array): TaskImages {
  const out = new Uint8Array(indices.length * pixels);
  const outLabels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    out.set(images.subarray(i * pixels, (i + 1) * pixels), k * pixels);
    outLabels[k] = labels[i];
  }
  return { images: out, labels: outLabels, n: indices.length };
}

/** Indexes of the task's examples: its classes, then a stratified seeded subset of `want`. */
function taskIndices(labels: Uint8Array, classes: readonly number[] | undefined, want: number | undefined, seed: number): Int32Array | null {
  const ofClasses = classes ? examplesOfClasses(labels, classes) : null;
  const pool = ofClasses ? Uint8Array.from(ofClasses, (i) => labels[i]) : labels;
  if (!want || want >= pool.length) return ofClasses;
  const picked = stratifiedSubset(pool, want, seed);
  return ofClasses ? Int32Array.from(picked, (k) => ofClasses[k]) : picked;
}

export async function loadTaskData(spec: TaskSpec, index: number, seed: number, resolveOptions: ResolveOptions): Promise<TaskData> {
  const resolved = await resolveDataset(spec, resolveOptions);
  const data = await loadDataset(resolved, spec.dataset);
  const where = `tasks[${index}] (${spec.label ?? spec.dataset})`;
  for (const c of spec.classes ?? []) {
    if (!Number.isInteger(c) || c < 0 || c >= data.classes) throw new Error(`${where}: class ${c} is not a class of ${resolved.name}, which has ${data.classes} classes (0..${data.classes - 1})`);
  }
  const classIds = spec.classes ? [...spec.classes] : Array.from({ length: data.classes }, (_, k) => k);
  const pixels = data.train.height * data.train.width;
  const part = (split: typeof data.train, stream: string, want: number | undefined): TaskImages => {
    const idx = taskIndices(split.labels, spec.classes, want, deriveSeed(seed, `${stream}/${index}`));
    const taken = idx ? select(split.images, split.labels, pixels, idx) : { images: split.images, labels: split.labels, n: split.labels.length };
    if (taken.n === 0) throw new Error(`${where}: no ${stream} examples of classes ${classIds.join(', ')} in ${resolved.name}`);
    let images = taken.images;
    if (spec.permutation !== undefined) images = permuteImages(images, pixels, pixelPermutation(pixels, spec.permutation));
    if (spec.rotation !== undefined && spec.rotation % 360 !== 0) images = rotateImages(images, data.train.height, data.train.width, spec.rotation);
    return { images, labels: taken.labels, n: taken.n };
  };
  return {
    index,
    spec,
    resolved,
    label: spec.label ?? (spec.classes ? classIds.join('/') : resolved.name),
    classIds,
    domain: [spec.dataset, resolved.dir, spec.permutation ?? '', spec.rotation ?? ''].join('|'),
    shape: [data.train.height, data.train.width, 1],
    train: part(data.train, 'train', spec.train),
    test: part(data.test, 'test', spec.test),
    mean: data.mean,
    std: data.std,
  };
}

/** Normalised float images, optionally of a subset (engine/data/pixels.ts). */
export { normalisedImages } from '../pixels';

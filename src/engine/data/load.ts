// Loads a resolved dataset into memory (raw uint8 pixels and labels) and checks it is consistent.
// Loaded datasets are cached per process by their file paths: a run loads each dataset once.

import { DATASETS, isBuiltinDataset } from './datasets';
import { DatasetError, readIdxFile, type IdxArray } from './idx';
import type { ResolvedDataset } from './resolve';

export interface ImageSplit {
  /** n*height*width pixels, row-major, 0..255. */
  images: Uint8Array;
  /** n labels, each < classes. */
  labels: Uint8Array;
  n: number;
  height: number;
  width: number;
}

export interface LoadedDataset {
  name: string;
  train: ImageSplit;
  test: ImageSplit;
  classes: number;
  classNames: string[];
  /** Normalisation of pixel/255: (x/255 - mean) / std. */
  mean: number;
  std: number;
}

const cache = new Map<string, Promise<LoadedDataset>>();

/** Forgets the loaded datasets (frees their memory once no one else holds them). */
export function clearDatasetCache(): void {
  cache.clear();
}

/**
 * Loads the four files of `resolved`. `name` is the task's dataset name ('mnist', 'fashion-mnist'
 * use the registry's classes and normalisation; anything else, e.g. 'idx', gets classes = max
 * training label + 1, test labels within them, and mean/std computed from the training images).
 */
export function loadDataset(resolved: ResolvedDataset, name: string = resolved.name): Promise<LoadedDataset> {
  const f = resolved.files;
  const key = [name, f.trainImages, f.trainLabels, f.testImages, f.testLabels].join('\0');
  let p = cache.get(key);
  if (!p) {
    p = load(resolved, name);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

function split(images: IdxArray, labels: IdxArray, imagesFile: string, labelsFile: string): ImageSplit {
  if (images.dims.length !== 3) {
    throw new DatasetError(`${imagesFile}: expected images with 3 dimensions (count x height x width), header says ${images.dims.join('x')}`);
  }
  if (labels.dims.length !== 1) {
    throw new DatasetError(`${labelsFile}: expected labels with 1 dimension (count), header says ${labels.dims.join('x')}`);
  }
  const [n, height, width] = images.dims;
  if (labels.dims[0] !== n) {
    throw new DatasetError(`${labelsFile}: ${labels.dims[0]} labels, but ${imagesFile} has ${n} images`);
  }
  return { images: images.data, labels: labels.data, n, height, width };
}

function maxLabel(labels: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > m) m = labels[i];
  return m;
}

function checkLabels(s: ImageSplit, classes: number, file: string, why = `: the dataset has ${classes} classes (0..${classes - 1})`) {
  for (let i = 0; i < s.labels.length; i++) {
    if (s.labels[i] >= classes) {
      throw new DatasetError(`${file}: label ${s.labels[i]} at index ${i} is out of range${why}`);
    }
  }
}

/** Mean and std of pixel/255 over all images (histogram: exact and fast). */
export function pixelStats(images: Uint8Array): { mean: number; std: number } {
  const hist = new Float64Array(256);
  for (let i = 0; i < images.length; i++) hist[images[i]]++;
  let s = 0;
  let s2 = 0;
  for (let v = 0; v < 256; v++) {
    const x = v / 255;
    s += hist[v] * x;
    s2 += hist[v] * x * x;
  }
  const n = images.length || 1;
  const mean = s / n;
  const std = Math.sqrt(Math.max(0, s2 / n - mean * mean));
  return { mean, std: std > 1e-8 ? std : 1 };
}

async function load(resolved: ResolvedDataset, name: string): Promise<LoadedDataset> {
  const f = resolved.files;
  const [trI, trL, teI, teL] = await Promise.all([readIdxFile(f.trainImages), readIdxFile(f.trainLabels), readIdxFile(f.testImages), readIdxFile(f.testLabels)]);
  const train = split(trI, trL, f.trainImages, f.trainLabels);
  const test = split(teI, teL, f.testImages, f.testLabels);
  if (train.height !== test.height || train.width !== test.width) {
    throw new DatasetError(
      `${f.testImages}: test images are ${test.height}x${test.width}, but the training images (${f.trainImages}) are ${train.height}x${train.width}`,
    );
  }
  if (isBuiltinDataset(name)) {
    const info = DATASETS[name];
    checkLabels(train, info.classes, f.trainLabels);
    checkLabels(test, info.classes, f.testLabels);
    return { name, train, test, classes: info.classes, classNames: [...info.classNames], mean: info.mean, std: info.std };
  }
  // Classes come from the training labels: a test label beyond them is a class the model never sees (mismatched files).
  const classes = maxLabel(train.labels) + 1;
  checkLabels(test, classes, f.testLabels, ` (the training labels in ${f.trainLabels} have ${classes} classes, 0..${classes - 1})`);
  const { mean, std } = pixelStats(train.images);
  return { name, train, test, classes, classNames: Array.from({ length: classes }, (_, i) => String(i)), mean, std };
}

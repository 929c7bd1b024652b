// A replay memory shared by the rehearsal strategies (replay, A-GEM, DER): a fixed number of
// remembered examples stored as rows of preallocated arrays (image, target unit, task, and
// optionally the logits the model gave it), filled from a stream of examples by one of two rules:
//   reservoir:      Vitter's algorithm R over the whole stream: after t examples every one of them is
//                   in memory with probability capacity / t (Chaudhry et al. 2019; Buzzega et al. 2020).
//   class-balanced: equal slots for every class seen so far (by target unit, or by task for A-GEM's
//                   per-task memory); a new class takes its slots from the largest classes, and each
//                   class keeps a reservoir sample of its own stream.
// Rows 0..size-1 are always filled: a full memory only ever overwrites a row in place.

import { copyImage, type TrainImages } from '../data/pixels';

export type MemoryPolicy = 'reservoir' | 'class-balanced';

/** Rows of examples to stream in: a TrainSet, or any arrays laid out like one. */
export interface ExampleRows {
  /** rows * pixels: bytes normalised when read, or normalised floats (engine/data/pixels.ts). */
  images: TrainImages;
  labels: ArrayLike<number>;
  tasks: ArrayLike<number>;
}

/** Remembered examples copied out of a memory (fresh arrays: tensors may keep a reference). */
export interface MemorySample {
  images: Float32Array;
  labels: Int32Array;
  tasks: Int32Array;
  /** n * logits, or null when the memory keeps no logits. */
  logits: Float32Array | null;
}

export interface MemoryOptions {
  capacity: number;
  /** Values per image (h * w * c). */
  pixels: number;
  policy: MemoryPolicy;
  /** Seeded generator for the selection (and the default for sample). */
  rng: () => number;
  /** Logits kept per example (DER); 0 or absent: none. */
  logits?: number;
  /** What class-balanced keeps equal: examples per target unit (default) or per task. */
  balanceBy?: 'label' | 'task';
}

export interface ReplayMemory {
  readonly capacity: number;
  readonly pixels: number;
  readonly policy: MemoryPolicy;
  /** Filled rows. */
  readonly size: number;
  /** Examples streamed in so far. */
  readonly seen: number;
  /** The storage itself (rows 0..size-1 filled); read, don't write. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly tasks: Int32Array;
  readonly logits: Float32Array | null;
  /**
   * Streams examples in, in order: source row rows[k] (default: every row) is the k-th; logits,
   * when the memory keeps them, are the k-th example's row of `logits` (k * width).
   */
  observe(source: ExampleRows, rows?: ArrayLike<number>, logits?: Float32Array): void;
  /** min(n, size) distinct remembered examples, uniformly at random (default rng: the memory's). */
  sample(n: number, rng?: () => number): MemorySample;
  /** Remembered examples per target unit. */
  countsByClass(): Map<number, number>;
  /** Remembered examples per task. */
  countsByTask(): Map<number, number>;
}

export function createMemory(opts: MemoryOptions): ReplayMemory {
  const { capacity, pixels, policy, rng } = opts;
  if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`memory capacity must be an integer >= 0, got ${capacity}`);
  const width = opts.logits ?? 0;
  const images = new Float32Array(capacity * pixels);
  const labels = new Int32Array(capacity);
  const tasks = new Int32Array(capacity);
  const logits = width > 0 ? new Float32Array(capacity * width) : null;
  const order = new Int32Array(capacity); // scratch for sampling
  // Class-balanced bookkeeping: the rows of each class, each row's position in its class's list,
  // and how many examples of each class the stream has brought.
  const members = new Map<number, number[]>();
  const position = new Int32Array(capacity);
  const seenOfClass = new Map<number, number>();
  let size = 0;
  let seen = 0;

  const write = (slot: number, src: ExampleRows, row: number, lg: Float32Array | undefined, k: number) => {
    copyImage(src.images, pixels, row, images, slot * pixels);
    labels[slot] = src.labels[row];
    tasks[slot] = src.tasks[row];
    if (logits && lg) {
      const lf = k * width;
      const lt = slot * width;
      for (let j = 0; j < width; j++) logits[lt + j] = lg[lf + j];
    }
  };

  const joinClass = (slot: number, key: number) => {
    let list = members.get(key);
    if (!list) members.set(key, (list = []));
    position[slot] = list.length;
    list.push(slot);
  };

  const leaveClass = (slot: number, key: number) => {
    const list = members.get(key)!;
    const last = list.pop()!;
    if (last !== slot) {
      list[position[slot]] = last;
      position[last] = position[slot];
    }
  };

  /** A class with the most rows (ties: a seeded random one). */
  const largestClass = (): number => {
    let most = -1;
    let ties = 0;
    for (const list of members.values()) {
      if (list.length > most) {
        most = list.length;
        ties = 1;
      } else if (list.length === most) ties++;
    }
    let pick = Math.floor(rng() * ties);
    for (const [key, list] of members) if (list.length === most && pick-- === 0) return key;
    throw new Error('unreachable: a full memory has a largest class');
  };

  const observeReservoir = (src: ExampleRows, row: number, lg: Float32Array | undefined, k: number) => {
    seen++;
    if (size < capacity) {
      write(size++, src, row, lg, k);
      return;
    }
    const j = Math.floor(rng() * seen); // uniform in 0..seen-1: keep with probability capacity / seen
    if (j < capacity) write(j, src, row, lg, k);
  };

  const observeBalanced = (src: ExampleRows, row: number, lg: Float32Array | undefined, k: number) => {
    seen++;
    const key = opts.balanceBy === 'task' ? src.tasks[row] : src.labels[row];
    const n = (seenOfClass.get(key) ?? 0) + 1;
    seenOfClass.set(key, n);
    if (size < capacity) {
      write(size, src, row, lg, k);
      joinClass(size++, key);
      return;
    }
    if (capacity === 0) return;
    const own = members.get(key)?.length ?? 0;
    const victimClass = largestClass();
    if (own < members.get(victimClass)!.length) {
      // Rebalance: the new example takes a random row of a largest class (what stays is still a uniform sample of it).
      const list = members.get(victimClass)!;
      const slot = list[Math.floor(rng() * list.length)];
      leaveClass(slot, victimClass);
      write(slot, src, row, lg, k);
      joinClass(slot, key);
      return;
    }
    // A largest class already: reservoir within the class's own stream.
    const j = Math.floor(rng() * n);
    if (j < own) write(members.get(key)![j], src, row, lg, k);
  };

  const step = policy === 'reservoir' ? observeReservoir : observeBalanced;

  const counts = (of: Int32Array) => {
    const out = new Map<number, number>();
    for (let i = 0; i < size; i++) out.set(of[i], (out.get(of[i]) ?? 0) + 1);
    return out;
  };

  return {
    capacity,
    pixels,
    policy,
    get size() {
      return size;
    },
    get seen() {
      return seen;
    },
    images,
    labels,
    tasks,
    logits,
    observe(source, rows, lg) {
      if (logits && !lg) throw new Error('this memory keeps logits: observe needs them');
      const n = rows ? rows.length : source.labels.length;
      for (let k = 0; k < n; k++) step(source, rows ? rows[k] : k, lg, k);
    },
    sample(n, r = rng) {
      const m = Math.max(0, Math.min(Math.floor(n), size));
      for (let i = 0; i < size; i++) order[i] = i;
      const out: MemorySample = {
        images: new Float32Array(m * pixels),
        labels: new Int32Array(m),
        tasks: new Int32Array(m),
        logits: logits ? new Float32Array(m * width) : null,
      };
      for (let i = 0; i < m; i++) {
        // Partial Fisher-Yates: order[i] is a uniform pick among the rows not yet taken.
        const j = i + Math.floor(r() * (size - i));
        const slot = order[j];
        order[j] = order[i];
        order[i] = slot;
        for (let p = 0; p < pixels; p++) out.images[i * pixels + p] = images[slot * pixels + p];
        out.labels[i] = labels[slot];
        out.tasks[i] = tasks[slot];
        if (out.logits) for (let j = 0; j < width; j++) out.logits[i * width + j] = logits![slot * width + j];
      }
      return out;
    },
    countsByClass: () => counts(labels),
    countsByTask: () => counts(tasks),
  };
}

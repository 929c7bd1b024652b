// The real bundle (src/webview/main.ts built by esbuild in memory, as scripts/build.mjs does) booted
// in jsdom: report mode from the embedded JSON, panel mode through a fake acquireVsCodeApi.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { renderReportHtml } from '../../src/engine/report';
import type { RunResult } from '../../src/protocol/result';
import { sampleResult, splitResult } from './dom';
import { bootWebview, patchJsdom, quietConsole, webviewBundle } from './bundle';

/** Messages from the page's realm, as plain data (deepEqual checks prototypes). */
const plain = (x: unknown) => JSON.parse(JSON.stringify(x));

const frame = (w: Window) => new Promise((r) => w.requestAnimationFrame(() => r(null)));

test('report.html renders from its embedded result', async () => {
  const a = await webviewBundle();
  assert.doesNotMatch(a.js, /<\/script|<!--/i, 'the bundle inlines without escaping surprises');
  const errors: string[] = [];
  const dom = new JSDOM(renderReportHtml(sampleResult(), a), { runScripts: 'dangerously', pretendToBeVisual: true, virtualConsole: quietConsole(errors), beforeParse: patchJsdom });
  const doc = dom.window.document;
  await frame(dom.window as unknown as Window);
  assert.deepEqual(errors, []);
  assert.equal(doc.querySelector('[data-testid="run-status"]')?.textContent, 'completed');
  assert.equal(doc.querySelectorAll('[data-testid="heatmap-cell"]').length, 4);
  assert.equal(doc.querySelector('[data-testid="rerun"]'), null);
  assert.ok(doc.querySelector('[data-testid="export-json"]'));
  dom.window.close();
});

test('report.html from an older (format-1) result and from a class-IL run render without errors', async () => {
  const a = await webviewBundle();
  const old = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'sample-result.json'), 'utf8')) as RunResult;
  assert.equal(old.formatVersion, 1);
  for (const [result, cells, setup] of [
    [old, 4, 'Naive · domain-IL'],
    [splitResult(), 25, 'EWC λ=1000 · class-IL · Split-MNIST, 5 tasks'],
  ] as const) {
    const errors: string[] = [];
    const dom = new JSDOM(renderReportHtml(result, a), { runScripts: 'dangerously', pretendToBeVisual: true, virtualConsole: quietConsole(errors), beforeParse: patchJsdom });
    await frame(dom.window as unknown as Window);
    const doc = dom.window.document;
    assert.deepEqual(errors, []);
    assert.equal(doc.querySelectorAll('[data-testid="heatmap-cell"]').length, cells);
    assert.equal(doc.querySelector('[data-testid="run-setup"]')?.textContent, setup);
    dom.window.close();
  }
});

test('panel: posts ready, renders the snapshot, applies events, keeps state for restore', async () => {
  const a = await webviewBundle();
  const errors: string[] = [];
  const html = `<!DOCTYPE html><html><head><style>${a.css}</style></head><body class="vscode-dark"><div id="app"></div><script nonce="abc">${a.js}</script></body></html>`;
  const { dom, posted, saved } = bootWebview(html, errors);
  const w = dom.window as unknown as Window & { litNonce?: string };
  const doc = dom.window.document;
  assert.deepEqual(plain(posted), [{ type: 'ready' }]);
  assert.equal(w.litNonce, 'abc', 'Lit gets the script nonce for any fallback <style>');
  const r = sampleResult();
  r.status = 'running';
  r.accuracyMatrix = [r.accuracyMatrix[0]];
  r.landscape = null;
  dom.window.postMessage({ type: 'snapshot', state: { result: r, progress: null, landscapeProgress: null, logs: [] }, mode: 'live', canRun: true }, '*');
  await new Promise((res) => setTimeout(res, 20));
  await frame(w);
  assert.equal(doc.querySelector('[data-testid="run-status"]')?.textContent, 'running');
  assert.equal(doc.querySelectorAll('[data-testid="heatmap-cell"]').length, 2);
  (doc.querySelector('[data-testid="cancel"]') as HTMLElement).click();
  assert.deepEqual(plain(posted[1]), { type: 'cancel' });
  dom.window.postMessage({ type: 'events', events: [{ type: 'taskFinished', task: 1, accuracy: [0.244, 0.903], loss: [3.7, 0.27], metrics: sampleResult().metrics, trainMs: 1, evalMs: 1 }] }, '*');
  await new Promise((res) => setTimeout(res, 20));
  await frame(w);
  assert.equal(doc.querySelectorAll('[data-testid="heatmap-cell"]').length, 4);
  assert.match(doc.querySelector('[data-testid="metric-bwt"]')!.textContent!, /-74\.5/);
  assert.ok(saved(), 'view saved with setState');
  assert.deepEqual(errors, []);
  dom.window.close();
});

import test from 'node:test';
import assert from 'node:assert/strict';
import { jointResult, sampleResult, setupDom } from './dom';
import { accuracyMatrixCsv, base64ToBytes, bytesToBase64, createExporter, exportFileName, resultJson, serializeSvg } from '../../src/webview/exporting';
import { parseFromWebviewMessage, type FromWebviewMessage } from '../../src/protocol/webview';
import { fallbackPalette } from '../../src/webview/theme';

test('file names are accepted by the host', () => {
  const names = [
    exportFileName('MNIST then Fashion-MNIST', 'curves', 'svg'),
    exportFileName('a/b\\c:<d>|"e"?*', 'landscape-loss', 'png'),
    exportFileName('', 'x', 'csv'),
    exportFileName('Ünïcödé ✓ name', 'result', 'json'),
    exportFileName('x'.repeat(500), 'accuracy-matrix', 'csv'),
  ];
  assert.equal(names[0], 'MNIST then Fashion-MNIST-curves.svg');
  for (const name of names) assert.ok(parseFromWebviewMessage({ type: 'export', format: 'svg', name, content: '' }), name);
});

test('R as CSV: header with task labels, rows so far (by phase), baseline row; fields quoted when needed', () => {
  const r = sampleResult();
  r.tasks[1].label = 'Fashion, "MNIST"';
  assert.equal(accuracyMatrixCsv(r), 'after,MNIST,"Fashion, ""MNIST"""\r\nMNIST,0.989,0.081\r\n"Fashion, ""MNIST""",0.244,0.903\r\nrandom_init,0.098,0.1\r\n');
  r.accuracyMatrix = [r.accuracyMatrix[0]];
  assert.equal(accuracyMatrixCsv(r).split('\r\n').length, 4);
  // Rows are phases: a joint run has one, named by what it trained.
  assert.equal(accuracyMatrixCsv(jointResult()).split('\r\n')[1], 'joint (all tasks),0.985,0.897');
  assert.deepEqual(JSON.parse(resultJson(sampleResult())), JSON.parse(JSON.stringify(sampleResult())));
});

test('SVG export is standalone: background, namespace, no test hooks; messages go through post', async () => {
  const dom = setupDom();
  const doc = dom.window.document;
  const svg = doc.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', '100');
  svg.setAttribute('height', '50');
  svg.setAttribute('data-testid', 'x');
  const t = doc.createElementNS('http://www.w3.org/2000/svg', 'text');
  t.textContent = 'a < b & "c"';
  svg.append(t);
  const p = fallbackPalette(true);
  const text = serializeSvg(svg, p);
  assert.match(text, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(text, new RegExp(`<rect width="100%" height="100%" fill="${p.background}"/>`));
  assert.match(text, /a &lt; b &amp; "c"/);
  assert.doesNotMatch(text, /data-testid/);
  assert.equal(svg.childNodes.length, 1, 'the chart itself is untouched');

  const posted: FromWebviewMessage[] = [];
  const ex = createExporter(doc, () => sampleResult(), () => p, (m) => posted.push(m));
  await ex.chart(svg, 'curves', 'svg');
  ex.json();
  assert.equal(posted.length, 2);
  for (const m of posted) assert.ok(parseFromWebviewMessage(m), 'the host accepts it');
  assert.equal(posted[0].type === 'export' && posted[0].name, 'MNIST then Fashion-MNIST-curves.svg');
});

test('base64 round trip over large binary data', () => {
  const bytes = new Uint8Array(200_000).map((_, i) => (i * 7919) & 255);
  const b64 = bytesToBase64(bytes);
  assert.equal(b64, Buffer.from(bytes).toString('base64'));
  assert.deepEqual(base64ToBytes(b64), bytes);
});

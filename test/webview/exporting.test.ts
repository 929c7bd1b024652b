import test from 'node:test';
import assert from 'node:assert/strict';
import { jointResult, sampleResult, setupDom } from './dom';
import {
  PUBLICATION_WIDTH,
  accuracyMatrixCsv,
  base64ToBytes,
  bytesToBase64,
  createExporter,
  exportFileName,
  frameFigure,
  pngChunks,
  pngResolution,
  resultJson,
  serializeSvg,
  withPngResolution,
  type ExportStyle,
} from '../../src/webview/exporting';
import { deflateSync, crc32 } from 'node:zlib';
import { parseFromWebviewMessage, type FromWebviewMessage } from '../../src/protocol/webview';
import { PUBLICATION_FONT_FAMILY, fallbackPalette, publicationPalette } from '../../src/webview/theme';
import { textWidth } from '../../src/webview/charts/axes';

test('file names are accepted by the host', () => {
  const names = [
    exportFileName('MNIST then Fashion-MNIST', 'curves', 'svg'),
    exportFileName('a/b\\c:<d>|"e"?*', 'landscape-loss', 'png'),
    exportFileName('', 'x', 'csv'),
    exportFileName('Ünïcödé ✓ name', 'result', 'json'),
    exportFileName('x'.repeat(500), 'accuracy-matrix', 'csv'),
  ];
  assert.equal(names[0], 'mnist-then-fashion-mnist-curves.svg');
  // Clean names: lowercase ASCII, hyphens, the seed, no stray characters.
  assert.equal(exportFileName('Tiny MNIST then Fashion-MNIST (quick demo)', 'accuracy-matrix', 'png', 0), 'tiny-mnist-then-fashion-mnist-quick-demo-seed-0-accuracy-matrix.png');
  assert.equal(names[1], 'a-b-c-d-e-landscape-loss.png');
  assert.equal(names[3], 'unicode-name-result.json');
  assert.ok(names[4].length <= 120 && names[4].endsWith('-accuracy-matrix.csv'));
  for (const name of names) assert.match(name, /^[a-z0-9][a-z0-9.-]*\.[a-z]+$/);
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
  let style: ExportStyle = 'theme';
  const ex = createExporter(doc, () => sampleResult(), () => p, (m) => posted.push(m), () => style);
  const builds: unknown[] = [];
  const chart = { part: 'curves', title: 'Test accuracy during training', build: (s: unknown) => (builds.push(s), svg) };
  await ex.chart(chart, 'svg');
  style = 'publication';
  await ex.chart(chart, 'svg');
  ex.json();
  assert.equal(posted.length, 3);
  for (const m of posted) assert.ok(parseFromWebviewMessage(m), 'the host accepts it');
  const [theme, paper] = posted as Extract<FromWebviewMessage, { type: 'export' }>[];
  assert.equal(theme.name, 'mnist-then-fashion-mnist-seed-0-curves-theme.svg');
  assert.equal(paper.name, 'mnist-then-fashion-mnist-seed-0-curves.svg');
  // Theme: the chart as shown, on the panel's background; publication: redrawn white at the paper width.
  assert.deepEqual(builds, [undefined, { palette: publicationPalette(), width: PUBLICATION_WIDTH }]);
  assert.match(theme.content, new RegExp(`<rect width="100%" height="100%" fill="${p.background}"/>`));
  assert.match(paper.content, /<rect width="100%" height="100%" fill="#ffffff"\/>/);
  assert.match(paper.content, new RegExp(`font-family="${PUBLICATION_FONT_FAMILY.replace(/"/g, '&quot;')}"`));
  // Both carry the title and what the run was.
  for (const m of [theme, paper]) {
    const parsed = new dom.window.DOMParser().parseFromString(m.content, 'image/svg+xml');
    const lines = (cls: string) => [...parsed.querySelectorAll(`.${cls} tspan`)].map((t) => t.textContent).join(' ');
    assert.equal(lines('figure-title'), 'Test accuracy during training');
    assert.equal(lines('figure-subtitle'), 'MNIST then Fashion-MNIST · Naive · domain-IL · seed 0');
  }
});

test('base64 round trip over large binary data', () => {
  const bytes = new Uint8Array(200_000).map((_, i) => (i * 7919) & 255);
  const b64 = bytesToBase64(bytes);
  assert.equal(b64, Buffer.from(bytes).toString('base64'));
  assert.deepEqual(base64ToBytes(b64), bytes);
});

/** A real 2x1 RGB PNG, built here (zlib): signature, IHDR, IDAT, IEND. */
function tinyPng(): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    Buffer.from(data).copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(2, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.from([0, 255, 255, 255, 0, 0, 0]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array())]));
}

test('PNG resolution: a pHYs chunk after IHDR says 300 dpi; valid CRC; replaces an earlier one', () => {
  const png = tinyPng();
  assert.equal(pngResolution(png), null);
  const at300 = withPngResolution(png, 300);
  assert.deepEqual(pngChunks(at300).map((c) => c.type), ['IHDR', 'pHYs', 'IDAT', 'IEND']);
  assert.equal(pngResolution(at300), 300);
  const phys = pngChunks(at300)[1];
  assert.equal(new DataView(phys.data.buffer, phys.data.byteOffset).getUint32(0), 11811, 'pixels per metre at 300 dpi');
  // Every chunk's CRC is right (a viewer rejects the file otherwise).
  for (const c of pngChunks(at300)) {
    const whole = at300.subarray(c.offset + 4, c.offset + 8 + c.data.length);
    assert.equal(new DataView(at300.buffer, at300.byteOffset).getUint32(c.offset + 8 + c.data.length), crc32(whole), c.type);
  }
  const again = withPngResolution(at300, 72);
  assert.deepEqual(pngChunks(again).map((c) => c.type), ['IHDR', 'pHYs', 'IDAT', 'IEND']);
  assert.equal(pngResolution(again), 72);
  assert.throws(() => withPngResolution(new Uint8Array([1, 2, 3]), 300), /not a PNG/);
});

test('a framed figure: the title band above, the chart moved down, the original untouched', () => {
  const dom = setupDom();
  const doc = dom.window.document;
  const svg = doc.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', '300');
  svg.setAttribute('height', '100');
  svg.append(doc.createElementNS('http://www.w3.org/2000/svg', 'circle'));
  const p = publicationPalette();
  const framed = frameFigure(svg, { title: 'Accuracy matrix R', subtitle: 'run' }, p);
  const band = Number(framed.getAttribute('height')) - 100;
  assert.ok(band >= p.fontSize * 2, 'room for title and subtitle');
  assert.equal(framed.getAttribute('width'), '300');
  assert.equal(framed.querySelector('.figure-title')!.textContent, 'Accuracy matrix R');
  // A title longer than the chart wraps between words, every line within the width.
  const long = frameFigure(svg, { title: 'Accuracy matrix R: test accuracy (%) on task j after training phase i' }, p);
  const lines = [...long.querySelectorAll('.figure-title tspan')].map((t) => t.textContent!);
  assert.ok(lines.length >= 2, lines.join(' | '));
  assert.equal(lines.join(' '), 'Accuracy matrix R: test accuracy (%) on task j after training phase i');
  for (const line of lines) assert.ok(8 + textWidth(line, Math.round(p.fontSize * 1.25)) * 1.05 <= Number(long.getAttribute('width')), line);
  assert.ok(Number(long.getAttribute('height')) > Number(framed.getAttribute('height')), 'the band grows with the lines');
  assert.equal(framed.querySelector('g')!.getAttribute('transform'), `translate(0,${band})`);
  assert.equal(framed.querySelectorAll('g circle').length, 1);
  assert.equal(svg.childNodes.length, 1, 'the chart keeps its content');
});

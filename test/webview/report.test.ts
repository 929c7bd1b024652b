import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { embedJson, renderReportHtml, writeReport } from '../../src/engine/report';
import { sampleResult } from './dom';

const assets = {
  js: 'console.log("</script><!-- x");\n//# sourceMappingURL=webview.js.map\n',
  css: 'body{color:red}\n.x::after{content:"</style>"}\n/*# sourceMappingURL=webview.css.map */',
};

function parse(html: string) {
  return new JSDOM(html).window.document;
}

test('report.html embeds the result, survives "</script>" in user strings', () => {
  const r = sampleResult();
  r.tasks[0].label = 'MNIST </script><script>alert(1)</script> <!-- \u2028';
  r.experiment.name = 'A & B <i>x</i>';
  const html = renderReportHtml(r, assets);
  assert.doesNotMatch(html.slice(html.indexOf('id="clw-result"'), html.indexOf('<script nonce')), /<\/script>.*<\/script>/s);
  const doc = parse(html);
  const scripts = doc.querySelectorAll('script');
  assert.equal(scripts.length, 2, 'exactly the data block and the bundle');
  const data = doc.getElementById('clw-result')!;
  assert.equal(data.getAttribute('type'), 'application/json');
  assert.deepEqual(JSON.parse(data.textContent!), JSON.parse(JSON.stringify(r)));
  assert.equal(doc.title, 'A & B <i>x</i> · Continual Learning Workbench');
  assert.ok(doc.body.classList.contains('clw-report'));
  assert.ok(doc.getElementById('app'));
  // The inlined bundle and CSS keep their meaning but cannot close their elements early.
  assert.equal(scripts[1].textContent, 'console.log("\\x3C/script>\\x3C!-- x");\n\n');
  assert.equal(doc.querySelector('style')!.textContent, 'body{color:red}\n.x::after{content:"\\3c /style>"}\n');
});

test('CSP: a fresh nonce per report, only the inline script/style, no remote anything', () => {
  const a = renderReportHtml(sampleResult(), assets);
  const b = renderReportHtml(sampleResult(), assets);
  const doc = parse(a);
  const csp = doc.querySelector('meta[http-equiv="Content-Security-Policy"]')!.getAttribute('content')!;
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1];
  assert.ok(nonce.length >= 16);
  assert.match(csp, /^default-src 'none';/);
  assert.match(csp, new RegExp(`style-src 'nonce-${nonce.replace(/[+/]/g, '\\$&')}'`));
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  assert.equal(doc.querySelector('script[nonce]')!.getAttribute('nonce'), nonce);
  assert.equal(doc.querySelector('style')!.getAttribute('nonce'), nonce);
  assert.notEqual(/nonce-([^']+)/.exec(b)![1], nonce, 'fresh nonce');
  assert.doesNotMatch(a, /(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
  assert.doesNotMatch(a, /url\(\s*["']?(https?:)?\/\//i);
  assert.doesNotMatch(a, /@import|sourceMappingURL/);
  assert.equal(doc.querySelectorAll('link, iframe, img, object, embed').length, 0);
});

test('embedded JSON has no "<" at all', () => {
  const s = embedJson({ a: '</script><!--<b>', b: 'x\u2028y' });
  assert.doesNotMatch(s, /</);
  assert.deepEqual(JSON.parse(s), { a: '</script><!--<b>', b: 'x\u2028y' });
});

test('writeReport reads the built assets and writes report.html atomically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clw-report-'));
  try {
    const assetsDir = join(dir, 'dist');
    const out = join(dir, 'runs', 'a');
    mkdirSync(assetsDir);
    writeFileSync(join(assetsDir, 'webview.js'), 'window.x=1;');
    writeFileSync(join(assetsDir, 'webview.css'), 'body{}');
    const file = writeReport(sampleResult(), out, assetsDir);
    assert.equal(file, join(out, 'report.html'));
    assert.deepEqual(readdirSync(out), ['report.html'], 'no temp file left');
    const html = readFileSync(file, 'utf8');
    assert.match(html, /window\.x=1;/);
    assert.match(html, /"runId":"run-1"/);
    writeReport({ ...sampleResult(), status: 'cancelled' }, out, assetsDir);
    assert.match(readFileSync(file, 'utf8'), /"status":"cancelled"/);
    assert.throws(() => writeReport(sampleResult(), out, join(dir, 'missing')), /webview\.js is missing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

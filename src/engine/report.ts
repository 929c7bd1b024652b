// report.html: one self-contained file (webview bundle, its CSS and the result inlined) that renders
// the same workbench UI in any browser, offline. No DOM, no vscode: plain string building.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../protocol/result';
import { experimentName } from '../protocol/format';
import { writeFileAtomic } from './atomicWrite';

export const REPORT_FILE = 'report.html';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * JSON for a <script type="application/json"> block: every '<' becomes \u003c (so neither
 * "</script>" nor "<!--" can end or confuse the block), plus U+2028/2029 for good measure.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Makes inline code safe inside <script>/<style>: drops source-map comments (no fetches) and writes
 * "<" as an escape where it could start "</script", "<!--" or "</style" (\x3C is "<" in JS strings,
 * regexes and templates; \3c is "<" in CSS strings). Today's bundle has none (test/webview/main.test.ts).
 */
function inlineSafe(code: string, tag: 'script' | 'style'): string {
  const noMap = code.replace(/^[ \t]*\/\/# sourceMappingURL=.*$/gm, '').replace(/\/\*# sourceMappingURL=[^*]*\*\//g, '');
  if (tag === 'style') return noMap.replace(/<(?=\/style)/gi, '\\3c ');
  return noMap.replace(/<(?=\/script|!--)/gi, '\\x3C');
}

/**
 * A self-contained page of the webview bundle: CSP with a fresh nonce, the CSS and JS inlined, and
 * `data` embedded as <script type="application/json" id=...> blocks for the bundle to render.
 */
export function renderStandaloneHtml(page: { title: string; bodyClass: string; data: { id: string; value: unknown }[] }, assets: { js: string; css: string }): string {
  const nonce = randomBytes(18).toString('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    'img-src data: blob:',
    'font-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    '<meta name="generator" content="Continual Learning Workbench">',
    `<title>${escapeHtml(page.title)}</title>`,
    `<style nonce="${nonce}">${inlineSafe(assets.css, 'style')}</style>`,
    '</head>',
    `<body class="${escapeHtml(page.bodyClass)}">`,
    '<div id="app"></div>',
    ...page.data.map((d) => `<script type="application/json" id="${escapeHtml(d.id)}">${embedJson(d.value)}</script>`),
    `<script nonce="${nonce}">${inlineSafe(assets.js, 'script')}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export function renderReportHtml(result: RunResult, assets: { js: string; css: string }): string {
  const title = `${experimentName(result)} · Continual Learning Workbench`;
  return renderStandaloneHtml({ title, bodyClass: 'clw-report', data: [{ id: 'clw-result', value: result }] }, assets);
}

/** The built webview bundle and its CSS from `assetsDir`; `file` names what is being written in the error. */
export function readWebviewAssets(assetsDir: string, file: string): { js: string; css: string } {
  const read = (name: string) => {
    const path = join(assetsDir, name);
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new Error(`cannot write ${file}: the webview asset ${path} is missing (build with 'npm run build'): ${(e as Error).message}`);
    }
  };
  return { js: read('webview.js'), css: read('webview.css') };
}

/** Writes `${outDir}/report.html` (atomically) from the built webview assets; returns its path. */
export function writeReport(result: RunResult, outDir: string, assetsDir: string): string {
  const html = renderReportHtml(result, readWebviewAssets(assetsDir, REPORT_FILE));
  const target = join(outDir, REPORT_FILE);
  writeFileAtomic(target, html);
  return target;
}

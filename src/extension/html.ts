// The workbench webview's HTML. Pure (no vscode import) so the CSP can be unit-tested.
import { randomBytes } from 'node:crypto';
import type { PanelMode } from '../protocol/webview';

export interface WorkbenchHtmlOptions {
  /** webview.asWebviewUri(dist/webview.js), as a string. */
  scriptUri: string;
  /** webview.asWebviewUri(dist/webview.css), as a string. */
  styleUri: string;
  /** webview.cspSource. */
  cspSource: string;
  /** A fresh nonce for this render (createNonce()). */
  nonce: string;
  mode: PanelMode;
  title?: string;
}

export interface ErrorHtmlOptions {
  cspSource: string;
  nonce: string;
  title: string;
  message: string;
  /** Show an "Open as JSON" button (posts {type:'openAsJson'}). */
  offerOpenAsJson: boolean;
}

/**
 * The webview options every panel and result editor gets (webviewOptions() in workbenchView.ts
 * makes the folders URIs): scripts (ours, by nonce), no command: links, no form submission, and
 * only the extension's dist/ folder readable from the webview.
 */
export const WEBVIEW_SECURITY = {
  enableScripts: true,
  enableCommandUris: false,
  enableForms: false,
  localResourceRoots: ['dist'] as readonly string[],
} as const;

/** 144 random bits, base64: a new one for every render, never a constant. */
export function createNonce(): string {
  return randomBytes(18).toString('base64');
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/**
 * The Content-Security-Policy of every webview we render: nothing by default; scripts and style
 * elements only with this render's nonce (no inline style attributes, no eval); assets only from
 * the webview resource origin; images also from data:/blob: (the PNG export rasterises an SVG);
 * no <base> and no form targets (default-src does not cover those).
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/**
 * The error page's script: reports CSP violations to the host as the workbench bundle does
 * (protocol/webview.ts cspViolationMessage, same size limits) and wires "Open as JSON".
 */
const ERROR_PAGE_SCRIPT = `const vscode = acquireVsCodeApi();
const cut = (s, n) => (typeof s === 'string' ? s.slice(0, n) : '');
document.addEventListener('securitypolicyviolation', (e) => vscode.postMessage({ type: 'cspViolation', directive: cut(e.effectiveDirective || e.violatedDirective || 'unknown', 100), blockedURI: cut(e.blockedURI, 2048), sourceFile: cut(e.sourceFile, 2048), line: e.lineNumber >= 0 ? e.lineNumber : 0, sample: cut(e.sample, 256) }));
document.getElementById('open-as-json')?.addEventListener('click', () => vscode.postMessage({ type: 'openAsJson' }));`;

/** The document start every page shares: doctype, the CSP of this render, viewport, title. */
function documentHead(cspSource: string, nonce: string, title: string, styles: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
<title>${escapeHtml(title)}</title>
</head>`;
}

export function workbenchHtml(o: WorkbenchHtmlOptions): string {
  const styles = `<link rel="stylesheet" nonce="${escapeHtml(o.nonce)}" href="${escapeHtml(o.styleUri)}">`;
  return `${documentHead(o.cspSource, o.nonce, o.title ?? 'Continual Workbench', styles)}
<body data-mode="${escapeHtml(o.mode)}">
<main id="app" aria-busy="true"></main>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}

/** A script-light page for files that are not result files (or could not be read). */
export function errorHtml(o: ErrorHtmlOptions): string {
  const button = o.offerOpenAsJson ? '<p><button id="open-as-json" type="button">Open as JSON</button></p>' : '';
  const script = `<script nonce="${escapeHtml(o.nonce)}">
${ERROR_PAGE_SCRIPT}
</script>`;
  const styles = `<style nonce="${escapeHtml(o.nonce)}">
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 1.5em 2em; }
h1 { font-size: 1.3em; font-weight: 600; }
.message { color: var(--vscode-errorForeground); white-space: pre-wrap; }
button { font: inherit; color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: 1px solid var(--vscode-button-border, transparent); padding: 4px 12px; cursor: pointer; }
button:hover { background: var(--vscode-button-hoverBackground); }
</style>`;
  return `${documentHead(o.cspSource, o.nonce, o.title, styles)}
<body data-mode="error">
<h1>${escapeHtml(o.title)}</h1>
<p class="message" role="alert">${escapeHtml(o.message)}</p>
${button}
${script}
</body>
</html>`;
}

// Entry of the webview bundle (dist/webview.js). Two ways in: a VS Code panel (live or saved run,
// state by messages; a run, or a comparison of runs) or a standalone report.html / compare.html
// (the RunResult or the Comparison embedded as JSON).
import './styles.css';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import type { Comparison } from '../protocol/compare';
import { upgradeResult, type RunResult } from '../protocol/result';
import { cspViolationMessage, describeCspViolation, type CspViolationMessage } from '../protocol/webview';
import { stateFromResult } from '../protocol/runState';
import { createWorkbench } from './app';
import { createPanelController } from './controller';
import { reportPost, vscodePost } from './host';
import { watchTheme } from './theme';

// Lit adopts constructable stylesheets (no CSP concern); where it must fall back to <style>
// elements it uses this nonce, the one the host put on our script tag.
const script = document.currentScript as HTMLScriptElement | null;
const nonce = script?.nonce || document.querySelector<HTMLScriptElement>('script[nonce]')?.nonce;
if (nonce) window.litNonce = nonce;

/** Distinct violations reported per page load: enough to see every cause, bounded if one repeats per render. */
const MAX_CSP_REPORTS = 50;

/**
 * Reports every Content-Security-Policy violation of this page: to the host, which logs it (the
 * end-to-end tests assert there are none), or to the console in a standalone report.
 */
function reportCspViolations(doc: Document, send: (m: CspViolationMessage) => void): void {
  const seen = new Set<string>();
  doc.addEventListener('securitypolicyviolation', (e: SecurityPolicyViolationEvent) => {
    const m = cspViolationMessage(e);
    const key = `${m.directive} ${m.blockedURI} ${m.sourceFile ?? ''}:${m.line ?? ''}:${m.column ?? ''}`;
    if (seen.has(key) || seen.size >= MAX_CSP_REPORTS) return;
    seen.add(key);
    send(m);
  });
}

function readEmbeddedResult(): RunResult | null {
  const el = document.getElementById('clw-result');
  if (!el) return null;
  try {
    const data = JSON.parse(el.textContent ?? 'null') as RunResult | null;
    // A report written by an older version embeds an older result format.
    return data ? upgradeResult(data) : null;
  } catch (e) {
    console.error('the embedded result is not valid JSON', e);
    return null;
  }
}

/** compare.html embeds its Comparison the way report.html embeds a result. */
function readEmbeddedComparison(): Comparison | null {
  const el = document.getElementById('clw-comparison');
  if (!el) return null;
  try {
    const data = JSON.parse(el.textContent ?? 'null') as Comparison | null;
    return data && typeof data === 'object' && Array.isArray(data.runs) ? data : null;
  } catch (e) {
    console.error('the embedded comparison is not valid JSON', e);
    return null;
  }
}

function boot() {
  const root = document.getElementById('app') ?? document.body;
  const comparisonBlock = !!document.getElementById('clw-comparison');
  const embedded = document.getElementById('clw-result') ? readEmbeddedResult() : comparisonBlock ? null : undefined;
  const api = embedded === undefined ? window.acquireVsCodeApi?.() : undefined;
  // First, before anything renders: a violation while building the view is reported too.
  reportCspViolations(document, api ? (m) => api.postMessage(m) : (m) => console.error(`Content Security Policy violation: ${describeCspViolation(m)}`));
  const post = api ? vscodePost(api) : reportPost(document);
  const workbench = createWorkbench(root, post);
  const controller = createPanelController({
    render: (v) => workbench.render(v),
    persist: api,
    schedule: (cb) => requestAnimationFrame(() => cb()),
  });

  watchTheme(document, () => {
    workbench.refreshTheme();
    controller.requestRender();
  });
  if (typeof ResizeObserver !== 'undefined') {
    let lastWidth = -1;
    new ResizeObserver((entries) => {
      const w = Math.round(entries[0]?.contentRect.width ?? 0);
      if (w !== lastWidth) {
        lastWidth = w;
        controller.requestRender();
      }
    }).observe(root);
  }

  if (api) {
    window.addEventListener('message', (e: MessageEvent) => controller.handleMessage(e.data));
    controller.requestRender(); // the view restored from getState(), if any, until the snapshot arrives
    api.postMessage({ type: 'ready' });
  } else {
    const comparison = comparisonBlock ? readEmbeddedComparison() : null;
    if (comparison) controller.handleMessage({ type: 'comparison', comparison, report: true });
    else controller.handleMessage({ type: 'snapshot', state: embedded ? stateFromResult(embedded) : null, mode: 'report', canRun: false });
  }
}

boot();

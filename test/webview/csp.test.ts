// The webview's Content-Security-Policy: the policy string the host renders, and the path by which
// a violation reaches the host's log (the end-to-end tests assert that path reports nothing while
// a run streams and charts export; this file shows it reports something when there is a violation).
// jsdom enforces no CSP, so the tests fire the securitypolicyviolation event a browser fires for an
// inline style attribute; test/e2e/security.test.ts makes Chromium block a real one.
import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';
import { contentSecurityPolicy, createNonce, errorHtml, WEBVIEW_SECURITY, workbenchHtml } from '../../src/extension/html';
import { describeCspViolation, parseFromWebviewMessage, WebviewMessageGate, type CspViolationMessage } from '../../src/protocol/webview';
import { bootWebview, webviewBundle } from './bundle';

const CSP_SOURCE = 'https://*.vscode-cdn.net';

/** The directives of a policy: name -> sources. */
function directives(csp: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of csp.split(';').map((s) => s.trim()).filter(Boolean)) {
    const [name, ...sources] = part.split(/\s+/);
    assert.ok(!out.has(name), `directive ${name} given twice`);
    out.set(name, sources);
  }
  return out;
}

const cspOf = (html: string) => /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1].replace(/&#39;/g, "'");

/** The event Chromium fires when the CSP blocks `el.setAttribute('style', …)`. */
function styleAttributeViolation(w: JSDOM['window'], line: number): Event {
  const e = new w.Event('securitypolicyviolation', { bubbles: true, composed: true });
  return Object.assign(e, {
    effectiveDirective: 'style-src-attr',
    violatedDirective: 'style-src-attr',
    blockedURI: 'inline',
    sourceFile: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
    lineNumber: line,
    columnNumber: 7,
    sample: '',
    disposition: 'enforce',
  });
}

describe('the policy', () => {
  test('no unsafe-inline/eval, scripts only by nonce, no remote or wildcard sources, no base or form targets', () => {
    const nonce = createNonce();
    const d = directives(contentSecurityPolicy(CSP_SOURCE, nonce));
    assert.deepEqual(d.get('default-src'), ["'none'"]);
    assert.deepEqual(d.get('script-src'), [`'nonce-${nonce}'`], 'scripts: this render\'s nonce and nothing else');
    assert.deepEqual(d.get('style-src'), [CSP_SOURCE, `'nonce-${nonce}'`], 'styles: our files and nonce\'d elements; no inline style attributes');
    assert.deepEqual(d.get('base-uri'), ["'none'"]);
    assert.deepEqual(d.get('form-action'), ["'none'"]);
    for (const [name, sources] of d) {
      for (const s of sources) {
        assert.ok(!/unsafe-|strict-dynamic|wasm-unsafe|'self'/.test(s), `${name} allows ${s}`);
        assert.ok(s === CSP_SOURCE || !/^(https?:|wss?:|\*|http)/.test(s), `${name} allows the remote source ${s}`);
      }
    }
    // No directive lets scripts or frames in from anywhere else.
    for (const name of ['connect-src', 'frame-src', 'child-src', 'worker-src', 'object-src', 'media-src', 'manifest-src']) assert.ok(!d.has(name), `${name} falls back to default-src 'none'`);
  });

  test('a fresh nonce per render: 200 renders, 200 nonces, each in its CSP and on its script tag only', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const nonce = createNonce();
      assert.match(nonce, /^[A-Za-z0-9+/]{24}$/, '144 random bits, base64');
      seen.add(nonce);
      const html = workbenchHtml({ scriptUri: 'https://x.vscode-cdn.net/dist/webview.js', styleUri: 'https://x.vscode-cdn.net/dist/webview.css', cspSource: CSP_SOURCE, nonce, mode: 'live' });
      assert.ok(cspOf(html)!.includes(`'nonce-${nonce}'`));
      assert.equal(html.split(nonce).length - 1, 4, 'in script-src and style-src, on the stylesheet link and on the script');
    }
    assert.equal(seen.size, 200);
  });

  test('webview options: scripts on, command links and forms off, only dist/ readable', () => {
    assert.deepEqual({ ...WEBVIEW_SECURITY, localResourceRoots: [...WEBVIEW_SECURITY.localResourceRoots] }, { enableScripts: true, enableCommandUris: false, enableForms: false, localResourceRoots: ['dist'] });
  });
});

describe('a violation reaches the host', () => {
  test('the workbench bundle reports an inline style violation as a validated message, once per cause', async () => {
    const { js } = await webviewBundle();
    const errors: string[] = [];
    const { dom, posted } = bootWebview(`<!DOCTYPE html><html><head></head><body><main id="app"></main><script nonce="n1">${js}</script></body></html>`, errors);
    const w = dom.window;
    const doc = w.document;
    assert.deepEqual(JSON.parse(JSON.stringify(posted)), [{ type: 'ready' }]);
    // What the blocked code did: put a style attribute on an element of the page.
    const target = doc.getElementById('app')!;
    target.setAttribute('style', 'color: red');
    target.dispatchEvent(styleAttributeViolation(w, 12));
    target.dispatchEvent(styleAttributeViolation(w, 12)); // the same cause again: not reported twice
    doc.body.dispatchEvent(styleAttributeViolation(w, 40)); // another place: reported
    const reports = posted.filter((m) => (m as { type?: string }).type === 'cspViolation');
    assert.equal(reports.length, 2, JSON.stringify(posted));
    // Through the host's door (structured clone = JSON here), into its log.
    const log: string[] = [];
    const gate = new WebviewMessageGate((l) => log.push(l));
    const received = reports.map((m) => gate.accept(JSON.parse(JSON.stringify(m))));
    assert.deepEqual(log, [], 'the host accepts the reports');
    const first = received[0] as CspViolationMessage;
    assert.deepEqual(first, {
      type: 'cspViolation',
      directive: 'style-src-attr',
      blockedURI: 'inline',
      sourceFile: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
      line: 12,
      column: 7,
    });
    assert.equal(describeCspViolation(first), 'style-src-attr blocked inline at https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js:12:7');
    assert.deepEqual(errors, []);
    w.close();
  });

  test('a flood of distinct violations is capped per page', async () => {
    const { js } = await webviewBundle();
    const { dom, posted } = bootWebview(`<!DOCTYPE html><html><body><main id="app"></main><script>${js}</script></body></html>`);
    for (let line = 1; line <= 500; line++) dom.window.document.body.dispatchEvent(styleAttributeViolation(dom.window, line));
    const reports = posted.filter((m) => (m as { type?: string }).type === 'cspViolation');
    assert.equal(reports.length, 50);
    dom.window.close();
  });

  test('the error page reports violations too, and they validate', () => {
    const posted: unknown[] = [];
    const nonce = createNonce();
    const html = errorHtml({ cspSource: CSP_SOURCE, nonce, title: 'Not a result', message: 'no runId', offerOpenAsJson: false });
    const dom = new JSDOM(html, {
      runScripts: 'dangerously',
      beforeParse(w) {
        (w as unknown as { acquireVsCodeApi: unknown }).acquireVsCodeApi = () => ({ postMessage: (m: unknown) => posted.push(m) });
      },
    });
    dom.window.document.body.dispatchEvent(styleAttributeViolation(dom.window, 3));
    assert.equal(posted.length, 1);
    const m = parseFromWebviewMessage(JSON.parse(JSON.stringify(posted[0])));
    assert.ok(m && m.type === 'cspViolation', `the host accepts ${JSON.stringify(posted[0])}`);
    assert.equal(m.directive, 'style-src-attr');
    assert.equal(m.line, 3);
    dom.window.close();
  });
});

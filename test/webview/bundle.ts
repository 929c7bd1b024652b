// The real webview bundle (src/webview/main.ts built by esbuild in memory, as scripts/build.mjs does)
// and what booting it in jsdom takes: a console that collects errors, the jsdom gap vscode-button
// falls into, and a fake acquireVsCodeApi as VS Code gives a webview.
import { join } from 'node:path';
import { build } from 'esbuild';
import { JSDOM, VirtualConsole } from 'jsdom';

let bundle: Promise<{ js: string; css: string }> | null = null;

/** The bundle's script and stylesheet, built once per test file. */
export function webviewBundle(): Promise<{ js: string; css: string }> {
  bundle ??= build({
    entryPoints: [join(__dirname, '..', '..', 'src', 'webview', 'main.ts')],
    bundle: true,
    write: false,
    outdir: '/virtual',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'css' },
    logLevel: 'silent',
  }).then((r) => ({
    js: r.outputFiles.find((f) => f.path.endsWith('.js'))!.text,
    css: r.outputFiles.find((f) => f.path.endsWith('.css'))!.text,
  }));
  return bundle;
}

/** A jsdom console that adds the page's errors to `errors` and prints nothing. */
export function quietConsole(errors: string[]): VirtualConsole {
  const vc = new VirtualConsole();
  vc.on('error', (m) => errors.push(String(m)));
  vc.on('jsdomError', (e) => errors.push(e.message));
  return vc;
}

/** jsdom has ElementInternals without form values; vscode-button (form-associated) calls them. */
export function patchJsdom(w: unknown): void {
  const EI = (w as { ElementInternals?: { prototype: Record<string, unknown> } }).ElementInternals;
  if (EI && typeof EI.prototype.setFormValue !== 'function') EI.prototype.setFormValue = () => {};
}

/** A webview page booted in jsdom with its scripts run: what it posts to the host, the state it saved with setState. */
export interface WebviewPage {
  dom: JSDOM;
  posted: unknown[];
  saved: () => unknown;
}

/** Boots `html` as a VS Code webview: acquireVsCodeApi records posted messages and keeps the state; errors go to `errors`. */
export function bootWebview(html: string, errors: string[] = []): WebviewPage {
  const posted: unknown[] = [];
  let saved: unknown;
  const dom = new JSDOM(html, {
    runScripts: 'dangerously',
    pretendToBeVisual: true,
    virtualConsole: quietConsole(errors),
    beforeParse(w) {
      patchJsdom(w);
      (w as unknown as { acquireVsCodeApi: unknown }).acquireVsCodeApi = () => ({ postMessage: (m: unknown) => posted.push(m), getState: () => saved, setState: (s: unknown) => (saved = s) });
    },
  });
  return { dom, posted, saved: () => saved };
}

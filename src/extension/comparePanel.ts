// The compare panel: a webview with the workbench bundle in 'compare' mode (same HTML, CSP and
// nonce as every panel, html.ts), showing the Comparison of run folders and sweep folders that
// engine/compare builds. It reloads when any compared result.json (or a sweep's index) changes, so
// a sweep fills in as its runs finish. Exports go through the same validated path as the run panel.
import * as vscode from 'vscode';
import { dirname } from 'node:path';
import type { Comparison } from '../protocol/compare';
import type { ToWebviewMessage } from '../protocol/webview';
import { SWEEP_FILE } from '../protocol/sweep';
import { createNonce, errorHtml, workbenchHtml } from './html';
import { panelIcon } from './panel';
import { exportContent, gateFor, logCspViolation, webviewOptions } from './workbenchView';

export const COMPARE_VIEW_TYPE = 'continualWorkbench.compare';
/** Results land in bursts (a sweep's runs, a run writing its file as it goes): one reload per quiet spell. */
const RELOAD_DEBOUNCE_MS = 500;

export interface CompareDeps {
  extensionUri: vscode.Uri;
  output: vscode.OutputChannel;
}

type CompareModule = typeof import('../engine/compare/build');
let compareModule: Promise<CompareModule> | undefined;
/** Loaded on first use: activation does not pay for the comparison code. */
const loadCompareModule = (): Promise<CompareModule> => (compareModule ??= import('../engine/compare/build'));

/** "Compare: 2 runs", "Compare: λ sweep" (the comparison's own title: a sweep's name, else "N runs"). */
export function compareTitle(c: Pick<Comparison, 'title' | 'runs'> | undefined, paths: readonly string[]): string {
  return `Compare: ${c?.title || `${paths.length} run${paths.length === 1 ? '' : 's'}`}`;
}

/** The key of a set of compared paths: the same selection reveals the same panel. */
const keyOf = (paths: readonly string[]) => [...paths].sort().join('\n');

export class ComparePanel implements vscode.Disposable {
  private static readonly panels = new Map<string, ComparePanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private comparison: Comparison | undefined;
  private error: string | undefined;
  private ready = false;
  private rendered: 'workbench' | 'error' | undefined;
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  private loading: Promise<void> | undefined;
  private reloadAgain = false;
  private disposed = false;

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly deps: CompareDeps,
    readonly paths: readonly string[],
  ) {
    ComparePanel.panels.set(keyOf(paths), this);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m) => void this.onMessage(m)),
      // Hidden webviews are destroyed (no retainContextWhenHidden): the next 'ready' gets the comparison again.
      panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) this.ready = false;
      }),
    );
    this.watch();
  }

  /** Opens (or reveals) the comparison of these run folders / result files / sweep folders. */
  static async show(deps: CompareDeps, paths: string[]): Promise<ComparePanel> {
    const existing = ComparePanel.panels.get(keyOf(paths));
    if (existing) {
      existing.panel.reveal();
      existing.scheduleReload(0);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      COMPARE_VIEW_TYPE,
      compareTitle(undefined, paths),
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { ...webviewOptions(deps.extensionUri), retainContextWhenHidden: false, enableFindWidget: true },
    );
    panel.iconPath = panelIcon(deps.extensionUri);
    const self = new ComparePanel(panel, deps, paths);
    await self.reload();
    return self;
  }

  /** The open compare panels (for tests and for closing them with their runs). */
  static get all(): ComparePanel[] {
    return [...ComparePanel.panels.values()];
  }

  /** Reads the results again and shows them (a failure shows an error page, retried on the next change). */
  async reload(): Promise<void> {
    if (this.loading) {
      this.reloadAgain = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        const { loadComparison } = await loadCompareModule();
        this.comparison = loadComparison([...this.paths]);
        this.error = undefined;
      } catch (e) {
        this.error = `Cannot compare these runs: ${(e as Error).message}`;
        this.deps.output.appendLine(`compare: ${this.error}`);
      }
    })();
    await this.loading;
    this.loading = undefined;
    if (this.disposed) return;
    this.panel.title = compareTitle(this.comparison, this.paths);
    this.render();
    if (this.reloadAgain) {
      this.reloadAgain = false;
      this.scheduleReload();
    }
  }

  private render(): void {
    if (this.error) {
      this.ready = false;
      this.rendered = 'error';
      this.panel.webview.html = errorHtml({ cspSource: this.panel.webview.cspSource, nonce: createNonce(), title: this.panel.title, message: this.error, offerOpenAsJson: false });
      return;
    }
    if (this.rendered !== 'workbench') {
      this.ready = false;
      this.rendered = 'workbench';
      const dist = vscode.Uri.joinPath(this.deps.extensionUri, 'dist');
      this.panel.webview.html = workbenchHtml({
        scriptUri: this.panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
        styleUri: this.panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
        cspSource: this.panel.webview.cspSource,
        nonce: createNonce(),
        mode: 'compare',
        title: this.panel.title,
      });
      return;
    }
    if (this.ready) this.postComparison();
  }

  private postComparison(): void {
    if (!this.comparison) return;
    void this.panel.webview.postMessage({ type: 'comparison', comparison: this.comparison } satisfies ToWebviewMessage);
  }

  /** Every compared result.json (and a sweep's index and its runs' results): a change reloads. */
  private watch(): void {
    const reload = () => this.scheduleReload();
    for (const path of this.paths) {
      const uri = vscode.Uri.file(path);
      const isFile = /\.json$/i.test(path);
      const base = isFile ? vscode.Uri.file(dirname(path)) : uri;
      // A sweep folder: its index and the result of each run (runs/<run>/result.json); a run folder: its result.
      const glob = isFile ? path.split(/[\\/]/).pop()! : `{result.json,${SWEEP_FILE},runs/*/result.json}`;
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(base, glob));
      this.disposables.push(watcher, watcher.onDidCreate(reload), watcher.onDidChange(reload), watcher.onDidDelete(reload));
    }
  }

  private scheduleReload(ms = RELOAD_DEBOUNCE_MS): void {
    if (this.disposed) return;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      void this.reload();
    }, ms);
  }

  private async onMessage(raw: unknown): Promise<void> {
    // Untrusted input, as from every webview: the run panel's gate (shapes, types, sizes).
    const m = gateFor(this.deps.output).accept(raw);
    if (!m) return;
    try {
      switch (m.type) {
        case 'ready':
          this.ready = true;
          this.postComparison();
          break;
        case 'export':
          await exportContent(m, this.exportFolder());
          break;
        case 'cspViolation':
          logCspViolation(this.deps.output, this.panel.title, m);
          break;
        case 'openAsJson':
          break;
        default:
          // Run-panel requests (cancel, rerun, runFile, openExperiment) mean nothing here.
          this.deps.output.appendLine(`compare panel: ignored '${m.type}'`);
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.deps.output.appendLine(`compare panel request '${m.type}' failed: ${message}`);
      void vscode.window.showErrorMessage(`Continual Workbench: ${message}`);
    }
  }

  /** Exports land in the workspace folder of the first compared run. */
  private exportFolder(): vscode.Uri | undefined {
    for (const p of this.paths) {
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(p));
      if (folder) return folder.uri;
    }
    return vscode.workspace.workspaceFolders?.[0]?.uri;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    if (ComparePanel.panels.get(keyOf(this.paths)) === this) ComparePanel.panels.delete(keyOf(this.paths));
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

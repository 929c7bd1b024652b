// The workbench panel: one per run, titled "Workbench: <experiment name>". Live while its run is
// in this window; after a window reload it comes back showing the run's saved result (serializer.ts).
import * as vscode from 'vscode';
import { ResultDocument, showResultDocument } from './resultEditor';
import type { Run } from './runManager';
import { webviewOptions, WorkbenchView, type WorkbenchDeps, type WorkbenchSource } from './workbenchView';

export const WORKBENCH_VIEW_TYPE = 'continualWorkbench.workbench';

export interface PanelDeps extends WorkbenchDeps {
  /** Remembers which result a panel shows, for restoring it when the webview kept no state. */
  rememberPanelResult(title: string, resultFile: string): void;
}

export const panelTitle = (experimentName: string) => `Workbench: ${experimentName}`;

export class WorkbenchPanel implements vscode.Disposable {
  /** Open panels by run id (live) or result file path (restored). */
  private static readonly panels = new Map<string, WorkbenchPanel>();
  private readonly disposables: vscode.Disposable[] = [];

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly key: string,
  ) {
    WorkbenchPanel.panels.set(key, this);
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
  }

  /** Shows the panel of a run, creating it on the run's first call. */
  static showRun(deps: PanelDeps, run: Run): WorkbenchPanel {
    const existing = WorkbenchPanel.panels.get(run.id);
    if (existing) {
      existing.panel.reveal(undefined, true);
      return existing;
    }
    const title = panelTitle(run.name);
    const activeFile = vscode.window.activeTextEditor?.document.uri.fsPath;
    const column = activeFile === run.experimentFile ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    const panel = vscode.window.createWebviewPanel(
      WORKBENCH_VIEW_TYPE,
      title,
      { viewColumn: column, preserveFocus: true },
      { ...webviewOptions(deps.extensionUri), retainContextWhenHidden: false, enableFindWidget: false },
    );
    const self = new WorkbenchPanel(panel, run.id);
    deps.rememberPanelResult(title, run.resultFile);
    const source: WorkbenchSource = {
      mode: 'live',
      title: () => title,
      error: () => undefined,
      state: () => run.state,
      experimentFile: () => run.experimentFile,
      resultUri: () => vscode.Uri.file(run.state?.resultFile ?? run.resultFile),
      run: () => (run.phase === 'ended' ? undefined : run),
    };
    const view = new WorkbenchView(panel.webview, deps, source);
    self.disposables.push(
      view,
      run.onEvent((e) => view.pushEvent(e)),
      panel.onDidChangeViewState((e) => view.visibilityChanged(e.webviewPanel.visible)),
    );
    view.refresh();
    return self;
  }

  /** A panel restored after a reload: shows the saved result of its run (or says why it cannot). */
  static async revive(deps: PanelDeps, panel: vscode.WebviewPanel, resultFile: string | undefined): Promise<void> {
    panel.webview.options = webviewOptions(deps.extensionUri);
    const self = new WorkbenchPanel(panel, resultFile ?? `restored:${Date.now()}:${Math.random()}`);
    const title = () => panel.title;
    if (!resultFile) {
      const view = new WorkbenchView(panel.webview, deps, {
        mode: 'saved',
        title,
        error: () =>
          'This panel was open before the window reloaded, but which run it showed is unknown. Open the run\'s result.json (command "Open Result in Workbench").',
        state: () => null,
        experimentFile: () => undefined,
        resultUri: () => undefined,
        run: () => undefined,
      });
      self.disposables.push(view);
      view.refresh();
      return;
    }
    const doc = await ResultDocument.open(vscode.Uri.file(resultFile));
    self.disposables.push(doc, showResultDocument(doc, panel, deps, title));
    deps.rememberPanelResult(panel.title, resultFile);
  }

  /** Reveals the panel of a run; false when it has none (closed or never opened). */
  static reveal(runId: string): boolean {
    const p = WorkbenchPanel.panels.get(runId);
    p?.panel.reveal();
    return p !== undefined;
  }

  dispose(): void {
    if (WorkbenchPanel.panels.get(this.key) === this) WorkbenchPanel.panels.delete(this.key);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

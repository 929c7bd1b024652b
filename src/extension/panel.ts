// The workbench panel: one per run, titled "<experiment name> · seed <s> · <HH:MM>" so runs of one
// file tell apart. Live while its run is in this window; after a window reload it comes back
// showing the run's saved result (serializer.ts). A run that waited in the queue opens its panel
// behind the editor the user is looking at.
import * as vscode from 'vscode';
import { runTabTitle } from '../protocol/format';
import { ResultDocument, showResultDocument } from './resultEditor';
import type { Run } from './runManager';
import { webviewOptions, WorkbenchView, type WorkbenchDeps, type WorkbenchSource } from './workbenchView';

export const WORKBENCH_VIEW_TYPE = 'continualWorkbench.workbench';

export interface PanelDeps extends WorkbenchDeps {
  /** Remembers which result a panel shows, for restoring it when the webview kept no state. */
  rememberPanelResult(title: string, resultFile: string): void;
}

/** The tab title of a run's panel: name, seed and the time it started training. */
export const panelTitle = (run: Pick<Run, 'experiment' | 'launchedAt' | 'createdAt'>) => runTabTitle(run.experiment, run.launchedAt || run.createdAt);

export interface ShowRunOptions {
  /** Open without hiding the editor the user is looking at (a queued run that just started). */
  background?: boolean;
}

/** Where a new panel goes: beside its experiment file, with the other workbench panels, or in the active group. */
function panelColumn(run: Run, background: boolean, others: Iterable<WorkbenchPanel>): vscode.ViewColumn {
  if (background) {
    const shown = [...others].map((p) => p.panel).filter((p) => p.visible && p.viewColumn !== undefined);
    if (shown.length) return shown[shown.length - 1].viewColumn!;
  }
  const activeFile = vscode.window.activeTextEditor?.document.uri.fsPath;
  return activeFile === run.experimentFile ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
}

/** Brings back the tab that was active in a group before a background panel was added to it. */
async function restoreTab(tab: vscode.Tab | undefined, column: vscode.ViewColumn, ours: WorkbenchPanel | undefined): Promise<void> {
  if (ours) {
    ours.panel.reveal(column, true);
    return;
  }
  const input = tab?.input;
  if (input instanceof vscode.TabInputText) await vscode.window.showTextDocument(input.uri, { viewColumn: column, preserveFocus: true, preview: tab!.isPreview });
  else if (input instanceof vscode.TabInputCustom) await vscode.commands.executeCommand('vscode.openWith', input.uri, input.viewType, { viewColumn: column, preserveFocus: true });
}

export function panelIcon(extensionUri: vscode.Uri): { light: vscode.Uri; dark: vscode.Uri } {
  return { light: vscode.Uri.joinPath(extensionUri, 'media', 'panel-light.svg'), dark: vscode.Uri.joinPath(extensionUri, 'media', 'panel-dark.svg') };
}

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

  /** Shows the panel of a run, creating it on the run's first call (one panel per run). */
  static showRun(deps: PanelDeps, run: Run, options: ShowRunOptions = {}): WorkbenchPanel {
    const existing = WorkbenchPanel.panels.get(run.id);
    if (existing) {
      if (!options.background) existing.panel.reveal(undefined, true);
      return existing;
    }
    const title = panelTitle(run);
    const background = options.background === true;
    const column = panelColumn(run, background, WorkbenchPanel.panels.values());
    // What the user is looking at in that group, to put it back in front (createWebviewPanel always shows the new panel).
    const group = column === vscode.ViewColumn.Active ? vscode.window.tabGroups.activeTabGroup : vscode.window.tabGroups.all.find((g) => g.viewColumn === column);
    const before = background ? group?.activeTab : undefined;
    const ours = background ? [...WorkbenchPanel.panels.values()].find((p) => p.panel.visible && p.panel.viewColumn === group?.viewColumn) : undefined;
    const panel = vscode.window.createWebviewPanel(
      WORKBENCH_VIEW_TYPE,
      title,
      { viewColumn: column, preserveFocus: true },
      { ...webviewOptions(deps.extensionUri), retainContextWhenHidden: false, enableFindWidget: false },
    );
    panel.iconPath = panelIcon(deps.extensionUri);
    const self = new WorkbenchPanel(panel, run.id);
    if (background && (before || ours)) void restoreTab(before, column, ours).then(undefined, (e: unknown) => deps.output.appendLine(`could not bring back the previous editor: ${(e as Error).message}`));
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
    panel.iconPath = panelIcon(deps.extensionUri);
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

// result.json files open in the workbench webview ('saved' mode): a read-only custom editor. The
// file on disk is the source of truth; a watcher refreshes the view when a running trainer
// rewrites it.
import * as vscode from 'vscode';
import { stateFromResult, type RunState } from '../protocol/runState';
import { parseRunResult, type ParsedResult } from './resultFile';
import { webviewOptions, WorkbenchView, type WorkbenchDeps, type WorkbenchSource } from './workbenchView';

export const RESULT_VIEW_TYPE = 'continualWorkbench.result';
export const RESULT_OPTION_VIEW_TYPE = 'continualWorkbench.resultOption';

const RELOAD_DEBOUNCE_MS = 150;

/** A result file, parsed, reloaded when it changes on disk. */
export class ResultDocument implements vscode.CustomDocument {
  parsed: ParsedResult = { ok: false, error: 'Not loaded yet.' };
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [this.changeEmitter];
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(readonly uri: vscode.Uri) {}

  static async open(uri: vscode.Uri): Promise<ResultDocument> {
    const doc = new ResultDocument(uri);
    await doc.reload();
    doc.watch();
    return doc;
  }

  get resultState(): RunState | null {
    return this.parsed.ok ? stateFromResult(this.parsed.result, this.uri.scheme === 'file' ? this.uri.fsPath : undefined) : null;
  }

  private async reload(): Promise<void> {
    try {
      const bytes = await vscode.workspace.fs.readFile(this.uri);
      this.parsed = parseRunResult(new TextDecoder().decode(bytes));
    } catch (e) {
      this.parsed = { ok: false, error: `Cannot read ${this.uri.fsPath}: ${(e as Error).message}` };
    }
  }

  private watch(): void {
    const name = this.uri.path.split('/').pop() ?? '';
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(this.uri, '..'), name));
    const schedule = () => {
      if (this.reloadTimer) clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(async () => {
        this.reloadTimer = undefined;
        await this.reload();
        this.changeEmitter.fire();
      }, RELOAD_DEBOUNCE_MS);
    };
    // Atomic writes (temp + rename) show up as create or change depending on the platform.
    this.disposables.push(watcher, watcher.onDidChange(schedule), watcher.onDidCreate(schedule));
  }

  dispose(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** A result document as a workbench view's source. */
export function resultSource(doc: ResultDocument, deps: WorkbenchDeps, title: () => string): WorkbenchSource {
  return {
    mode: 'saved',
    title,
    error: () => (doc.parsed.ok ? undefined : doc.parsed.error),
    state: () => doc.resultState,
    experimentFile: () => (doc.parsed.ok ? doc.parsed.result.experimentFile : undefined),
    resultUri: () => doc.uri,
    run: () => (doc.uri.scheme === 'file' ? deps.runs.findByResultFile(doc.uri.fsPath) : undefined),
  };
}

/** Shows a result document in a webview panel until the panel closes. */
export function showResultDocument(doc: ResultDocument, panel: vscode.WebviewPanel, deps: WorkbenchDeps, title: () => string): vscode.Disposable {
  panel.webview.options = webviewOptions(deps.extensionUri);
  const view = new WorkbenchView(panel.webview, deps, resultSource(doc, deps, title));
  const subs = [
    view,
    doc.onDidChange(() => view.refresh()),
    panel.onDidChangeViewState((e) => view.visibilityChanged(e.webviewPanel.visible)),
  ];
  view.refresh();
  return new vscode.Disposable(() => subs.forEach((d) => d.dispose()));
}

export class ResultEditorProvider implements vscode.CustomReadonlyEditorProvider<ResultDocument> {
  private constructor(private readonly deps: WorkbenchDeps) {}

  /** One provider serves both view types: the default for run folders and the opt-in for any result.json. */
  static register(deps: WorkbenchDeps): vscode.Disposable {
    const provider = new ResultEditorProvider(deps);
    const options = { webviewOptions: { retainContextWhenHidden: false }, supportsMultipleEditorsPerDocument: true };
    return vscode.Disposable.from(
      vscode.window.registerCustomEditorProvider(RESULT_VIEW_TYPE, provider, options),
      vscode.window.registerCustomEditorProvider(RESULT_OPTION_VIEW_TYPE, provider, options),
    );
  }

  openCustomDocument(uri: vscode.Uri): Promise<ResultDocument> {
    return ResultDocument.open(uri);
  }

  resolveCustomEditor(document: ResultDocument, panel: vscode.WebviewPanel): void {
    const title = () => {
      const r = document.parsed.ok ? document.parsed.result : undefined;
      return r ? `Result: ${r.experiment.name}` : 'Not a Continual Workbench result';
    };
    const shown = showResultDocument(document, panel, this.deps, title);
    panel.onDidDispose(() => shown.dispose());
  }
}

// Binds one webview (a workbench panel or a result editor) to what it shows: renders the HTML
// (fresh nonce each time), answers 'ready' with a snapshot, batches run events, and handles every
// message from the webview in one place.
import * as vscode from 'vscode';
import type { RunEvent } from '../protocol/events';
import type { RunState } from '../protocol/runState';
import { parseFromWebviewMessage, type ExportFormat, type FromWebviewMessage, type PanelMode, type ToWebviewMessage } from '../protocol/webview';
import { createNonce, errorHtml, workbenchHtml } from './html';
import type { Run, RunManager } from './runManager';
import { EventThrottler, runEventBatchPolicy } from './throttle';
import { canRunExperiments } from './trust';

export interface WorkbenchDeps {
  extensionUri: vscode.Uri;
  runs: RunManager;
  output: vscode.OutputChannel;
  /** Validates and runs an experiment file (trust check included). */
  runExperiment(uri: vscode.Uri): Promise<unknown>;
}

/** What a webview shows: a live run, or a result file. */
export interface WorkbenchSource {
  readonly mode: PanelMode;
  title(): string;
  /** Set when there is nothing to show (not a result file, unreadable, unknown run). */
  error(): string | undefined;
  state(): RunState | null;
  experimentFile(): string | undefined;
  resultUri(): vscode.Uri | undefined;
  /** The unfinished run behind this view, for 'cancel'. */
  run(): Run | undefined;
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, enableCommandUris: false, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')] };
}

export class WorkbenchView implements vscode.Disposable {
  private readonly throttler: EventThrottler<RunEvent>;
  private readonly disposables: vscode.Disposable[] = [];
  /** The webview has posted 'ready' since the last render/hide: events can be delivered. */
  private ready = false;
  private rendered: 'workbench' | 'error' | undefined;
  private renderedError: string | undefined;

  constructor(
    private readonly webview: vscode.Webview,
    private readonly deps: WorkbenchDeps,
    private readonly source: WorkbenchSource,
  ) {
    this.throttler = new EventThrottler((events) => this.post({ type: 'events', events }), runEventBatchPolicy);
    this.disposables.push(
      webview.onDidReceiveMessage((m) => void this.onMessage(m)),
      // canRun changes with trust: the Rerun button appears without reopening the panel.
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.ready && this.postSnapshot()),
    );
  }

  /** Renders what the source has now: the workbench (or a new snapshot), or an error page. */
  refresh(): void {
    const error = this.source.error();
    if (error) {
      if (this.rendered !== 'error' || this.renderedError !== error) this.renderError(error);
    } else if (this.rendered !== 'workbench') this.renderWorkbench();
    else if (this.ready) this.postSnapshot();
  }

  /** A live run event (already folded into the source's state). */
  pushEvent(e: RunEvent): void {
    if (!this.ready) return;
    // A run's first event: a snapshot instead, so the webview also learns the result file's path.
    if (e.type === 'runStarted') this.postSnapshot();
    else this.throttler.push(e);
  }

  /** Hidden webviews are destroyed (no retainContextWhenHidden); the next 'ready' gets a snapshot. */
  visibilityChanged(visible: boolean): void {
    if (!visible) {
      this.ready = false;
      this.throttler.clear();
    }
  }

  dispose(): void {
    this.throttler.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private renderWorkbench(): void {
    const dist = vscode.Uri.joinPath(this.deps.extensionUri, 'dist');
    this.ready = false;
    this.throttler.clear();
    this.rendered = 'workbench';
    this.renderedError = undefined;
    this.webview.html = workbenchHtml({
      scriptUri: this.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: this.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
      cspSource: this.webview.cspSource,
      nonce: createNonce(),
      mode: this.source.mode,
      title: this.source.title(),
    });
  }

  private renderError(message: string): void {
    this.ready = false;
    this.throttler.clear();
    this.rendered = 'error';
    this.renderedError = message;
    this.webview.html = errorHtml({
      cspSource: this.webview.cspSource,
      nonce: createNonce(),
      title: this.source.title(),
      message,
      offerOpenAsJson: this.source.resultUri() !== undefined,
    });
  }

  private postSnapshot(): void {
    this.throttler.clear();
    const experimentFile = this.source.experimentFile();
    void this.post({
      type: 'snapshot',
      state: this.source.state(),
      mode: this.source.mode,
      canRun: canRunExperiments() && experimentFile !== undefined,
      experimentFile,
    });
  }

  private post(m: ToWebviewMessage): Thenable<boolean> {
    return this.webview.postMessage(m);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const m: FromWebviewMessage | null = parseFromWebviewMessage(raw);
    if (!m) return;
    try {
      switch (m.type) {
        case 'ready':
          this.ready = true;
          this.postSnapshot();
          break;
        case 'cancel': {
          const run = this.source.run();
          if (run) this.deps.runs.cancel(run);
          break;
        }
        case 'rerun': {
          const file = this.source.experimentFile();
          if (file) await this.deps.runExperiment(vscode.Uri.file(file));
          else void vscode.window.showWarningMessage('This result does not say which experiment file it came from.');
          break;
        }
        case 'openExperiment': {
          const file = this.source.experimentFile();
          if (file) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
          else void vscode.window.showWarningMessage('This result does not say which experiment file it came from.');
          break;
        }
        case 'openAsJson': {
          const uri = this.source.resultUri();
          if (uri) await vscode.commands.executeCommand('vscode.openWith', uri, 'default');
          break;
        }
        case 'export':
          await exportContent(m, this.exportFolder());
          break;
        default: {
          const never: never = m;
          throw new Error(`unhandled webview message ${JSON.stringify(never)}`);
        }
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.deps.output.appendLine(`webview request '${m.type}' failed: ${message}`);
      void vscode.window.showErrorMessage(`Continual Workbench: ${message}`);
    }
  }

  private exportFolder(): vscode.Uri | undefined {
    const result = this.source.resultUri();
    if (result) return vscode.Uri.joinPath(result, '..');
    return vscode.workspace.workspaceFolders?.[0]?.uri;
  }
}

const EXPORT_FILTERS: Record<ExportFormat, string> = { svg: 'SVG image', png: 'PNG image', csv: 'CSV table', json: 'JSON' };
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Asks where to save an export from the webview and writes it (PNG content arrives as base64). */
export async function exportContent(m: Extract<FromWebviewMessage, { type: 'export' }>, folder: vscode.Uri | undefined): Promise<void> {
  const name = m.name.toLowerCase().endsWith(`.${m.format}`) ? m.name : `${m.name}.${m.format}`;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
    filters: { [EXPORT_FILTERS[m.format]]: [m.format] },
    saveLabel: 'Export',
    title: `Export ${name}`,
  });
  if (!target) return;
  const bytes = m.format === 'png' ? Buffer.from(m.content, 'base64') : Buffer.from(m.content, 'utf8');
  if (m.format === 'png' && !PNG_SIGNATURE.every((b, i) => bytes[i] === b)) throw new Error('the exported PNG is not a PNG image');
  await vscode.workspace.fs.writeFile(target, bytes);
  vscode.window.setStatusBarMessage(`$(check) Exported ${target.path.split('/').pop()}`, 4000);
}

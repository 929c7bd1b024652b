// Binds one webview (a workbench panel or a result editor) to what it shows: renders the HTML
// (fresh nonce each time), answers 'ready' with a snapshot, batches run events, and handles every
// message from the webview in one place.
import * as vscode from 'vscode';
import type { RunEvent } from '../protocol/events';
import type { NormalisedExperiment } from '../protocol/experiment';
import type { RunState } from '../protocol/runState';
import { panelContextMessage, type PanelContext } from '../protocol/format';
import { describeCspViolation, WebviewMessageGate, type CspViolationMessage, type ExportFormat, type FromWebviewMessage, type PanelMode, type ToWebviewMessage } from '../protocol/webview';
import { createNonce, errorHtml, WEBVIEW_SECURITY, workbenchHtml } from './html';
import { panelContextFor } from './panelContext';
import { panelLandscapes } from './landscapePanel';
import type { PanelLandscapes } from './landscapeJobs';
import type { Run, RunManager } from './runManager';
import { EventThrottler, runEventBatchPolicy } from './throttle';
import { canRunExperiments, ensureTrustedForRun } from './trust';

export interface WorkbenchDeps {
  extensionUri: vscode.Uri;
  runs: RunManager;
  output: vscode.OutputChannel;
  /** Validates and runs an experiment file as it is now (trust check included). */
  runExperiment(uri: vscode.Uri): Promise<unknown>;
  /** Runs the recorded experiment of a result again, whatever its file says now (trust check included). */
  rerunExperiment(recorded: NormalisedExperiment, experimentFile: string): Promise<unknown>;
}

type PanelContextMessage = ReturnType<typeof panelContextMessage>;
const FILE_CHECK_DEBOUNCE_MS = 300;

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
  const { localResourceRoots, ...flags } = WEBVIEW_SECURITY;
  return { ...flags, localResourceRoots: localResourceRoots.map((dir) => vscode.Uri.joinPath(extensionUri, dir)) };
}

/** One gate per output channel: every view's drops are counted together, each kind logged once. */
const gates = new WeakMap<vscode.OutputChannel, WebviewMessageGate>();
export function gateFor(output: vscode.OutputChannel): WebviewMessageGate {
  let gate = gates.get(output);
  if (!gate) gates.set(output, (gate = new WebviewMessageGate((line) => output.appendLine(line))));
  return gate;
}

/** CSP violations logged this session: every one until the cap (a broken build would repeat one per render). */
let cspLogged = 0;
const MAX_CSP_LINES = 200;

/** Logs a violation the webview reported: "CSP violation in <title>: …" (the e2e tests look for these lines). */
export function logCspViolation(output: vscode.OutputChannel, title: string, m: CspViolationMessage): void {
  if (cspLogged > MAX_CSP_LINES) return;
  cspLogged++;
  output.appendLine(cspLogged > MAX_CSP_LINES ? `CSP violation: more than ${MAX_CSP_LINES} this session; no longer logged` : `CSP violation in ${JSON.stringify(title)}: ${describeCspViolation(m)}`);
}

export class WorkbenchView implements vscode.Disposable {
  private readonly throttler: EventThrottler<RunEvent>;
  private readonly disposables: vscode.Disposable[] = [];
  /** The webview has posted 'ready' since the last render/hide: events can be delivered. */
  private ready = false;
  private rendered: 'workbench' | 'error' | undefined;
  private renderedError: string | undefined;
  /** The experiment file watched for the changed-file notice, and its watcher. */
  private watched: { file: string; watcher: vscode.Disposable } | undefined;
  private contextTimer: ReturnType<typeof setTimeout> | undefined;
  private contextVersion = 0;
  /** The planes saved beside the run's result and the landscape-only job (landscapeJobs.ts). */
  private readonly landscapes: PanelLandscapes;

  constructor(
    private readonly webview: vscode.Webview,
    private readonly deps: WorkbenchDeps,
    private readonly source: WorkbenchSource,
  ) {
    this.throttler = new EventThrottler((events) => this.post({ type: 'events', events }), runEventBatchPolicy);
    this.landscapes = panelLandscapes(deps, source, (m) => void this.post(m));
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
    this.landscapes.dispose();
    if (this.contextTimer) clearTimeout(this.contextTimer);
    this.watched?.watcher.dispose();
    this.watched = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** Computes the panel context (defaults, the experiment file now) and sends it when the webview is ready. */
  private async postContext(): Promise<void> {
    const version = ++this.contextVersion;
    const file = this.source.experimentFile();
    this.watch(file);
    let context: PanelContext;
    try {
      context = await panelContextFor(this.source.state()?.result.experiment, file);
    } catch (e) {
      this.deps.output.appendLine(`panel context: ${(e as Error).message}`);
      return;
    }
    // A newer request (file saved again, new snapshot) has started meanwhile: its answer counts.
    if (version === this.contextVersion && this.ready) void this.post(panelContextMessage(context));
  }

  private scheduleContext(): void {
    if (this.contextTimer) clearTimeout(this.contextTimer);
    this.contextTimer = setTimeout(() => {
      this.contextTimer = undefined;
      void this.postContext();
    }, FILE_CHECK_DEBOUNCE_MS);
  }

  /** Saves, edits on disk, deletion and re-creation of the experiment file refresh the notice. */
  private watch(file: string | undefined): void {
    if (this.watched?.file === file) return;
    this.watched?.watcher.dispose();
    this.watched = undefined;
    if (!file) return;
    const uri = vscode.Uri.file(file);
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(uri, '..'), uri.path.split('/').pop() ?? ''));
    const refresh = () => this.scheduleContext();
    this.watched = { file, watcher: vscode.Disposable.from(watcher, watcher.onDidChange(refresh), watcher.onDidCreate(refresh), watcher.onDidDelete(refresh)) };
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
    void this.postContext();
  }

  private post(m: ToWebviewMessage | PanelContextMessage): Thenable<boolean> {
    return this.webview.postMessage(m);
  }

  private async onMessage(raw: unknown): Promise<void> {
    // Untrusted input: wrong shapes, types and sizes are dropped here (and logged once per kind).
    const m: FromWebviewMessage | null = gateFor(this.deps.output).accept(raw);
    if (!m) return;
    try {
      switch (m.type) {
        case 'ready':
          this.ready = true;
          this.postSnapshot();
          this.landscapes.ready();
          break;
        case 'cancel': {
          const run = this.source.run();
          if (run) this.deps.runs.cancel(run);
          break;
        }
        case 'rerun': {
          // Restricted Mode: refused here too, whatever the webview showed.
          if (!(await ensureTrustedForRun())) break;
          // The experiment as recorded in the result: the file may say something else by now.
          const file = this.source.experimentFile();
          const recorded = this.source.state()?.result.experiment;
          if (file && recorded) await this.deps.rerunExperiment(recorded, file);
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
        case 'runFile':
          await this.runFileAgain();
          break;
        case 'export':
          await exportContent(m, this.exportFolder());
          break;
        case 'cspViolation':
          logCspViolation(this.deps.output, this.source.title(), m);
          break;
        case 'computeLandscape':
        case 'cancelLandscape':
        case 'showLandscape':
          await this.landscapes.handle(m);
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

  private async runFileAgain(): Promise<void> {
    if (!(await ensureTrustedForRun())) return;
    const file = this.source.experimentFile();
    if (!file) {
      void vscode.window.showWarningMessage('This result does not say which experiment file it came from.');
      return;
    }
    try {
      await this.deps.runExperiment(vscode.Uri.file(file));
    } catch (e) {
      void vscode.window.showErrorMessage(`Continual Workbench: ${(e as Error).message}`);
    }
  }

  /** Exports land in the workspace folder of the run (not its hidden run folder). */
  private exportFolder(): vscode.Uri | undefined {
    for (const f of [this.source.experimentFile(), this.source.resultUri()?.fsPath]) {
      const folder = f ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(f)) : undefined;
      if (folder) return folder.uri;
    }
    return vscode.workspace.workspaceFolders?.[0]?.uri ?? (this.source.experimentFile() ? vscode.Uri.joinPath(vscode.Uri.file(this.source.experimentFile()!), '..') : undefined);
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

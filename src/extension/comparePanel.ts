// The compare panel: a webview with the workbench bundle in 'compare' mode (same HTML, CSP and
// nonce as every panel, html.ts), showing the Comparison of run folders and sweep folders that
// engine/compare builds. It reloads when any compared result.json (or a sweep's index) changes, so
// a sweep fills in as its runs finish. Exports go through the same validated path as the run panel.
// The landscape cards ask for a paths job (several runs on one plane, paths between solutions):
// validated (protocol/planeMessages.ts, runs named by id), refused in Restricted Mode, run in a
// forked trainer (trainerJob.ts) with its progress forwarded and its result sent to the webview.
import * as vscode from 'vscode';
import { dirname, join } from 'node:path';
import type { Comparison } from '../protocol/compare';
import type { ToWebviewMessage } from '../protocol/webview';
import type { BackendName } from '../protocol/result';
import type { FromPathsJobMessage } from '../protocol/trainer';
import { pathsJobFields, readPlaneRequest, runFolderOf, type PlaneComputeMessage, type PlaneJobOutcome, type ToPlaneWebviewMessage } from '../protocol/planeMessages';
import { startTrainerJob, type TrainerJob } from './trainerJob';
import { canRunExperiments, ensureTrustedForRun, UNTRUSTED_RUN_MESSAGE } from './trust';
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
  /** Where datasets are cached (the run manager's: <globalStorage>/datasets); absent, the trainer's default. */
  globalStorageUri?: vscode.Uri;
  /** The trainer entry of paths jobs (default dist/trainer.js; tests). */
  trainerEntry?: string;
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
  /** The paths job in flight (one per panel), and the last one's end (re-sent to a re-created webview). */
  private planeJob: TrainerJob | undefined;
  private planeOutcome: PlaneJobOutcome | undefined;

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

  private postPlane(m: ToPlaneWebviewMessage): void {
    if (m.type === 'planeFinished') this.planeOutcome = m;
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  /** The folder of a compared run, by its id in the comparison. */
  private folderOf(id: string): string | undefined {
    const run = this.comparison?.runs.find((r) => r.id === id);
    return run ? runFolderOf(run.resultFile) : undefined;
  }

  /** A paths job for the landscape cards: refused in Restricted Mode or while one runs. */
  startPlaneJob(m: PlaneComputeMessage): TrainerJob | undefined {
    const refuse = (error: string) => this.postPlane({ type: 'planeFinished', status: 'refused', request: m, error });
    if (!canRunExperiments()) {
      refuse(UNTRUSTED_RUN_MESSAGE);
      void ensureTrustedForRun();
      return undefined;
    }
    if (this.planeJob) return void refuse('A landscape job is already running in this panel: cancel it first.');
    let fields: ReturnType<typeof pathsJobFields>;
    try {
      fields = pathsJobFields(m, (id) => this.folderOf(id));
    } catch (e) {
      return void refuse((e as Error).message);
    }
    const cfg = vscode.workspace.getConfiguration('continualWorkbench', vscode.Uri.file(fields.reference));
    const output = this.deps.output;
    output.appendLine(`compare: paths job on ${fields.reference}${fields.planeWith ? `, plane with ${fields.planeWith}` : ''}`);
    let finished = false;
    const job = startTrainerJob<FromPathsJobMessage>({
      request: {
        type: 'paths',
        ...fields,
        backend: cfg.get<BackendName | 'auto'>('backend', 'auto'),
        dataDir: cfg.get<string>('dataDir')?.trim() || undefined,
        ...(this.deps.globalStorageUri ? { cacheDir: join(this.deps.globalStorageUri.fsPath, 'datasets') } : {}),
      },
      entry: this.deps.trainerEntry ?? vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'trainer.js').fsPath,
      onMessage: (msg) => {
        if (msg.type !== 'pathsEvent') return;
        const e = msg.event;
        if (e.type === 'progress') this.postPlane({ type: 'planeProgress', stage: e.stage, done: e.done, total: e.total });
        else if (e.type === 'log') {
          output.appendLine(`paths job: ${e.message}`);
          this.postPlane({ type: 'planeLog', message: e.message });
        } else {
          finished = true;
          if (e.error) output.appendLine(`paths job ${e.status}: ${e.error}`);
          const { type: _type, ...outcome } = e;
          this.postPlane({ type: 'planeFinished', ...outcome, request: m });
        }
      },
      onStderr: (line) => line.trim() && output.appendLine(`paths job: ${line}`),
    });
    this.planeJob = job;
    void job.done.then((o) => {
      if (this.planeJob === job) this.planeJob = undefined;
      // A trainer that died without its 'finished' report: say how it ended.
      if (!finished && !this.disposed) this.postPlane({ type: 'planeFinished', status: o.status, request: m, ...(o.error ? { error: o.error } : {}) });
    });
    return job;
  }

  private async onMessage(raw: unknown): Promise<void> {
    // The landscape cards' requests (validated: runs by id, sizes bounded) before the panels' gate.
    const plane = readPlaneRequest(raw);
    if (plane) {
      if (plane.type === 'planeCancel') this.planeJob?.cancel();
      else this.startPlaneJob(plane);
      return;
    }
    // Untrusted input, as from every webview: the run panel's gate (shapes, types, sizes).
    const m = gateFor(this.deps.output).accept(raw);
    if (!m) return;
    try {
      switch (m.type) {
        case 'ready':
          this.ready = true;
          this.postComparison();
          if (this.planeOutcome) void this.panel.webview.postMessage({ type: 'planeFinished', ...this.planeOutcome } satisfies ToPlaneWebviewMessage);
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
    this.planeJob?.dispose();
    if (ComparePanel.panels.get(keyOf(this.paths)) === this) ComparePanel.panels.delete(keyOf(this.paths));
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

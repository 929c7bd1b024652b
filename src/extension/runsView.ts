// The Runs view (Explorer): every run and sweep of the workspace from runIndex.ts, live while this
// window's runs stream, with Open, Rerun, Cancel, Reveal and Delete; Compare over the selection
// (canSelectMany is on). A sweep is one node with its runs as children; its menu opens the sweep's
// comparison and resumes it (completed runs skipped); a Slurm sweep shows its array tasks' states.
import * as vscode from 'vscode';
import { dirname, isAbsolute, relative } from 'node:path';
import type { NormalisedExperiment } from '../protocol/experiment';
import { resolveResultsDir } from './runFolder';
import type { Run, RunManager } from './runManager';
import {
  allRuns,
  describeEntry,
  describeSweep,
  NO_RESULT_FILE,
  RESULT_FILE_NAME,
  RunIndex,
  sweepRunState,
  sweepStatus,
  sweepTooltipMarkdown,
  tooltipMarkdown,
  withClusterStates,
  withLiveRuns,
  type ClusterTaskState,
  type IndexNode,
  type LiveRunInfo,
  type RunEntry,
  type SweepEntry,
} from './runIndex';
import { SWEEP_FILE } from '../protocol/sweep';
import { canRunExperiments } from './trust';

export const RUNS_VIEW_ID = 'continualWorkbench.runs';

/** A disk change or a run ending: rescan after this quiet time… */
const RESCAN_DEBOUNCE_MS = 300;
/** …but never later than this after the first change (a folder that keeps changing must not starve the view). */
const RESCAN_MAX_WAIT_MS = 2_000;
/**
 * While the view is visible it also rescans this often: file watchers miss writes on shared
 * folders (NFS, results landing from cluster nodes) and can drop events; a rescan of unchanged
 * runs is a readdir and a stat per run.
 */
const VISIBLE_POLL_MS = 5_000;
/** Live progress: redraw at most this often. */
const LIVE_REDRAW_MS = 1_000;

export const RUNS_COMMANDS = {
  refresh: 'continualWorkbench.runs.refresh',
  open: 'continualWorkbench.runs.open',
  rerun: 'continualWorkbench.runs.rerun',
  cancel: 'continualWorkbench.runs.cancel',
  revealInExplorer: 'continualWorkbench.runs.revealInExplorer',
  revealInOS: 'continualWorkbench.runs.revealInOS',
  delete: 'continualWorkbench.runs.delete',
  compare: 'continualWorkbench.runs.compare',
  compareSweep: 'continualWorkbench.runs.compareSweep',
  resumeSweep: 'continualWorkbench.runs.resumeSweep',
} as const;

export interface RunsViewDeps {
  runs: RunManager;
  /** The rerun path of extension.ts (the panel's Rerun): trust check, replay file, start. */
  rerunExperiment(recorded: NormalisedExperiment, experimentFile: string): Promise<unknown>;
  output: vscode.OutputChannel;
  /** Opens the compare panel on run folders and sweep folders (comparePanel.ts). */
  compare(paths: string[]): Promise<unknown>;
  /** Resumes a sweep (local) or resubmits it (Slurm): runs that completed are skipped. */
  resumeSweep(sweepDir: string): Promise<unknown>;
  /** The cluster's view of a Slurm sweep's array tasks, by array index (cli/slurm.ts). */
  clusterStates?(sweepDir: string): Promise<Map<number, ClusterTaskState>>;
}

const ICONS: Record<RunEntry['status'], [string, string]> = {
  completed: ['pass', 'testing.iconPassed'],
  cancelled: ['circle-slash', 'testing.iconSkipped'],
  failed: ['error', 'errorForeground'],
  running: ['sync~spin', 'charts.blue'],
  queued: ['clock', 'testing.iconQueued'],
  incomplete: ['warning', 'list.warningForeground'],
  unreadable: ['question', 'list.warningForeground'],
  stale: ['debug-disconnect', 'list.warningForeground'],
};

/** Tokens matched by the menus' `viewItem =~ /\btoken\b/` clauses (package.json). */
export function contextValueOf(e: IndexNode): string {
  if (e.kind === 'sweep') {
    const tokens = ['sweep', 'revealable'];
    const busy = e.runs.some((r) => r.live || r.status === 'running');
    if (!busy) tokens.push('deletable');
    if (e.index) tokens.push('comparable');
    // Resume: runs left to do and none of them running here (a second start would collide with the run lock anyway).
    if (e.index && !e.runs.some((r) => r.live) && e.runs.some((r) => sweepRunState(r) !== 'completed')) tokens.push('resumable');
    return tokens.join(' ');
  }
  const tokens = ['run', 'revealable', e.status];
  if (e.result && e.status !== 'unreadable') tokens.push('comparable');
  if (e.live) tokens.push('unfinished');
  else if (!(e.status === 'running' && e.elsewhere)) tokens.push('deletable');
  if (e.result?.experiment && e.result.experimentFile && !e.live && e.status !== 'unreadable') tokens.push('rerunnable');
  if (e.live || e.problem !== NO_RESULT_FILE) tokens.push('openable');
  return tokens.join(' ');
}

export class RunsView implements vscode.TreeDataProvider<IndexNode>, vscode.Disposable {
  private readonly index = new RunIndex();
  private readonly changeEmitter = new vscode.EventEmitter<IndexNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly view: vscode.TreeView<IndexNode>;
  private readonly disposables: vscode.Disposable[] = [];
  private watchers: vscode.Disposable[] = [];
  /** Runs this window started: followed live; their results dirs are scanned even outside the workspace's. */
  private readonly tracked = new Map<string, { run: Run; subs: vscode.Disposable[] }>();
  private readonly extraDirs = new Set<string>();
  private disk: IndexNode[] = [];
  private entries: IndexNode[] = [];
  /** The last answer of the cluster about each Slurm sweep (by sweep folder). */
  private readonly cluster = new Map<string, Map<number, ClusterTaskState>>();
  private clusterPolling = false;
  private shownKey: string | undefined;
  private scanned: Promise<void> | undefined;
  private rescanTimer: ReturnType<typeof setTimeout> | undefined;
  private rescanDue = 0;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private redrawTimer: ReturnType<typeof setTimeout> | undefined;
  private scanning = false;
  private rescanAgain = false;

  constructor(private readonly deps: RunsViewDeps) {
    this.view = vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: this, canSelectMany: true, showCollapseAll: false });
    this.disposables.push(
      this.view,
      this.changeEmitter,
      deps.runs.onDidLaunch((run) => this.track(run)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('continualWorkbench.resultsDir')) {
          this.watch();
          this.scheduleRescan();
        }
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.watch();
        this.scheduleRescan();
      }),
      this.view.onDidChangeVisibility(() => this.poll()),
      vscode.commands.registerCommand(RUNS_COMMANDS.refresh, () => this.rescan()),
      vscode.commands.registerCommand(RUNS_COMMANDS.open, (node?: IndexNode, nodes?: IndexNode[]) => this.open(this.targets(node, nodes))),
      vscode.commands.registerCommand(RUNS_COMMANDS.rerun, (node?: IndexNode, nodes?: IndexNode[]) => this.rerun(this.targets(node, nodes))),
      vscode.commands.registerCommand(RUNS_COMMANDS.cancel, (node?: IndexNode, nodes?: IndexNode[]) => this.cancel(this.targets(node, nodes))),
      vscode.commands.registerCommand(RUNS_COMMANDS.revealInExplorer, (node?: IndexNode) => this.reveal(this.picked(node, undefined)[0], 'revealInExplorer')),
      vscode.commands.registerCommand(RUNS_COMMANDS.revealInOS, (node?: IndexNode) => this.reveal(this.picked(node, undefined)[0], 'revealFileInOS')),
      vscode.commands.registerCommand(RUNS_COMMANDS.delete, (node?: IndexNode, nodes?: IndexNode[]) => this.delete(this.picked(node, nodes))),
      vscode.commands.registerCommand(RUNS_COMMANDS.compare, (node?: IndexNode, nodes?: IndexNode[]) => this.compare(this.picked(node, nodes))),
      vscode.commands.registerCommand(RUNS_COMMANDS.compareSweep, (node?: IndexNode) => this.compare(this.picked(node, undefined).filter((e) => e.kind === 'sweep'))),
      vscode.commands.registerCommand(RUNS_COMMANDS.resumeSweep, (node?: IndexNode) => this.resumeSweep(this.picked(node, undefined))),
      // How many nodes are selected: Compare in the view's title bar from two (package.json).
      this.view.onDidChangeSelection((e) => void vscode.commands.executeCommand('setContext', 'continualWorkbench.runsSelected', e.selection.length)),
    );
    for (const run of deps.runs.unfinished) this.track(run);
    this.watch();
    this.poll();
    void vscode.commands.executeCommand('setContext', 'continualWorkbench.runsViewEnabled', true);
  }

  /** Follow a run of this window from its start (queued runs too: onDidLaunch comes only when it launches). */
  track(run: Run): void {
    if (this.tracked.has(run.id) || run.phase === 'ended') return;
    // The results dir holding the run (for a sweep's run: the one holding its sweep folder).
    this.extraDirs.add(dirname(run.sweepDir ?? run.runDir));
    const subs = [
      run.onEvent(() => this.scheduleRedraw()),
      run.onDidChange(() => {
        if (run.phase === 'ended') {
          for (const s of this.tracked.get(run.id)?.subs ?? []) s.dispose();
          this.tracked.delete(run.id);
          // The result on disk is final now: read it.
          this.scheduleRescan();
        } else this.scheduleRedraw(true);
      }),
    ];
    this.tracked.set(run.id, { run, subs });
    this.scheduleRescan();
  }

  // ---- TreeDataProvider ----

  getTreeItem(e: IndexNode): vscode.TreeItem {
    if (e.kind === 'sweep') return this.sweepItem(e);
    const item = new vscode.TreeItem(e.name, vscode.TreeItemCollapsibleState.None);
    item.id = e.dir;
    item.description = describeEntry(e);
    const md = new vscode.MarkdownString(tooltipMarkdown(e, this.relativeDir(e.dir)));
    md.supportHtml = false;
    md.isTrusted = false;
    item.tooltip = md;
    const [icon, color] = ICONS[e.status];
    item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
    item.contextValue = contextValueOf(e);
    item.accessibilityInformation = { label: `${e.name}, ${item.description}` };
    if (contextValueOf(e).includes('openable')) item.command = { command: RUNS_COMMANDS.open, title: 'Open Run', arguments: [e] };
    return item;
  }

  private sweepItem(e: SweepEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(e.name, e.runs.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = e.dir;
    item.description = describeSweep(e);
    const md = new vscode.MarkdownString(sweepTooltipMarkdown(e, this.relativeDir(e.dir)));
    md.supportHtml = false;
    md.isTrusted = false;
    item.tooltip = md;
    const status = sweepStatus(e);
    const [icon, color] = ICONS[status];
    // A finished sweep with every run completed: the sweep's own icon, not a test tick.
    item.iconPath = new vscode.ThemeIcon(status === 'completed' ? 'layers' : icon, new vscode.ThemeColor(status === 'completed' ? 'testing.iconPassed' : color));
    item.contextValue = contextValueOf(e);
    item.accessibilityInformation = { label: `${e.name}, ${item.description}` };
    return item;
  }

  async getChildren(node?: IndexNode): Promise<IndexNode[]> {
    if (node) return node.kind === 'sweep' ? (this.current(node) as SweepEntry | undefined)?.runs ?? node.runs : [];
    await (this.scanned ??= this.rescan());
    return this.entries;
  }

  getParent(node: IndexNode): IndexNode | undefined {
    if (node.kind !== 'run' || !node.sweep) return undefined;
    const dir = node.sweep.dir;
    return this.entries.find((e) => e.kind === 'sweep' && e.dir === dir);
  }

  /** The current state of a node (by folder): items passed to commands may be an older render. */
  private current(node: IndexNode): IndexNode | undefined {
    if (node.kind === 'sweep') return this.entries.find((e) => e.kind === 'sweep' && e.dir === node.dir);
    return allRuns(this.entries).find((e) => e.dir === node.dir);
  }

  // ---- scanning and redrawing ----

  private resultsDirs(): string[] {
    const dirs = new Set<string>(this.extraDirs);
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (folder.uri.scheme !== 'file') continue;
      const setting = vscode.workspace.getConfiguration('continualWorkbench', folder.uri).get<string>('resultsDir');
      dirs.add(resolveResultsDir(setting, folder.uri.fsPath, folder.uri.fsPath));
    }
    return [...dirs];
  }

  /**
   * Watches each workspace folder's results dir: a run folder that comes or goes, a result.json
   * written (`<resultsDir>/*` and `<resultsDir>/* /result.json`; other files in run folders are ignored).
   */
  private watch(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (folder.uri.scheme !== 'file') continue;
      const setting = vscode.workspace.getConfiguration('continualWorkbench', folder.uri).get<string>('resultsDir');
      const dir = resolveResultsDir(setting, folder.uri.fsPath, folder.uri.fsPath);
      const rel = relative(folder.uri.fsPath, dir).split(/[\\/]/).join('/');
      // Inside the folder: relative to it (the dir may not exist yet); outside: watched where it is.
      const inside = rel && !rel.startsWith('..') && !isAbsolute(rel);
      const pattern = inside ? new vscode.RelativePattern(folder, `${rel}/**`) : new vscode.RelativePattern(vscode.Uri.file(dir), '**');
      const watcher = vscode.workspace.createFileSystemWatcher(pattern);
      const changed = (uri: vscode.Uri) => {
        const parts = relative(dir, uri.fsPath).split(/[\\/]/);
        if (parts[0] === '..' || parts[0]?.startsWith('.')) return;
        const last = parts[parts.length - 1];
        // A run folder; a result; a sweep's index; a result of a sweep's run (<sweep>/runs/<run>/result.json).
        if (parts.length === 1 || (parts.length === 2 && (last === RESULT_FILE_NAME || last === SWEEP_FILE)) || (parts.length === 4 && last === RESULT_FILE_NAME)) this.scheduleRescan();
      };
      this.watchers.push(watcher, watcher.onDidCreate(changed), watcher.onDidChange(changed), watcher.onDidDelete(changed));
    }
  }

  /** Polls while the view is visible (see VISIBLE_POLL_MS); rescans at once when it becomes visible. */
  private poll(): void {
    if (this.view.visible && !this.pollTimer) {
      this.pollTimer = setInterval(() => {
        void this.rescan();
        void this.pollCluster();
      }, VISIBLE_POLL_MS);
      void this.pollCluster();
      if (this.scanned) this.scheduleRescan();
    } else if (!this.view.visible && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private scheduleRescan(): void {
    const now = Date.now();
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    else this.rescanDue = now + RESCAN_MAX_WAIT_MS;
    this.rescanTimer = setTimeout(
      () => {
        this.rescanTimer = undefined;
        void this.rescan();
      },
      Math.max(0, Math.min(RESCAN_DEBOUNCE_MS, this.rescanDue - now)),
    );
  }

  /** Reads the results dirs again (unchanged result files come from the index's cache). */
  async rescan(): Promise<void> {
    if (this.scanning) {
      this.rescanAgain = true;
      return;
    }
    this.scanning = true;
    try {
      this.disk = await this.index.scan(this.resultsDirs());
    } catch (e) {
      this.deps.output.appendLine(`Runs view: could not scan the results folders: ${(e as Error).message}`);
    } finally {
      this.scanning = false;
    }
    this.redraw();
    if (this.rescanAgain) {
      this.rescanAgain = false;
      this.scheduleRescan();
    }
  }

  /** Live changes: at most one redraw per LIVE_REDRAW_MS (`soon`: a phase change, redraw quickly). */
  private scheduleRedraw(soon = false): void {
    if (this.redrawTimer) {
      if (!soon) return;
      clearTimeout(this.redrawTimer);
    }
    this.redrawTimer = setTimeout(() => {
      this.redrawTimer = undefined;
      this.redraw();
    }, soon ? RESCAN_DEBOUNCE_MS : LIVE_REDRAW_MS);
  }

  /**
   * Asks the cluster about the Slurm sweeps with runs not yet final (only while the view is
   * visible: squeue/sacct are not free on a busy login node).
   */
  private async pollCluster(): Promise<void> {
    const ask = this.deps.clusterStates;
    if (!ask || this.clusterPolling || !this.view.visible) return;
    this.clusterPolling = true;
    let changed = false;
    try {
      for (const e of this.disk) {
        if (e.kind !== 'sweep' || e.index?.executor?.type !== 'slurm') continue;
        if (e.runs.every((r) => ['completed', 'cancelled', 'failed'].includes(sweepRunState(r)))) {
          changed = this.cluster.delete(e.dir) || changed;
          continue;
        }
        try {
          const states = await ask(e.dir);
          this.cluster.set(e.dir, states);
          changed = true;
        } catch (err) {
          this.deps.output.appendLine(`Runs view: cannot ask Slurm about ${e.dir}: ${(err as Error).message}`);
        }
      }
    } finally {
      this.clusterPolling = false;
    }
    if (changed) this.redraw();
  }

  private liveRuns(): LiveRunInfo[] {
    const out: LiveRunInfo[] = [];
    for (const run of this.deps.runs.unfinished) {
      if (run.phase === 'ended') continue;
      out.push({
        id: run.id,
        runDir: run.runDir,
        phase: run.phase,
        cancelRequested: run.cancelRequested,
        experiment: run.experiment,
        experimentFile: run.experimentFile,
        state: run.state,
        createdAt: run.createdAt.getTime(),
      });
    }
    return out;
  }

  /** Redraws when something shown changed (a poll that finds nothing new leaves open hovers and menus alone). */
  private redraw(): void {
    const merged = withLiveRuns(this.disk, this.liveRuns());
    this.entries = merged.map((e) => {
      const states = e.kind === 'sweep' ? this.cluster.get(e.dir) : undefined;
      return e.kind === 'sweep' && states ? withClusterStates(e, states) : e;
    });
    const runKey = (e: RunEntry) =>
      [e.dir, e.name, e.status, describeEntry(e), e.problem, e.result?.runId, e.result?.accuracyMatrix?.length, e.result?.notes?.length, e.result?.timing?.finishedAt, e.elsewhere?.pid, e.cluster?.state, e.cluster?.detail].join('|');
    const key = this.entries.map((e) => (e.kind === 'sweep' ? [e.dir, describeSweep(e), ...e.runs.map(runKey)].join('\n ') : runKey(e))).join('\n');
    if (key === this.shownKey) return;
    this.shownKey = key;
    const running = allRuns(this.entries).filter((e) => e.live).length;
    this.view.badge = running ? { value: running, tooltip: `${running} run${running === 1 ? '' : 's'} queued or running` } : undefined;
    this.changeEmitter.fire(undefined);
  }

  private relativeDir(dir: string): string {
    return vscode.workspace.asRelativePath(vscode.Uri.file(dir), (vscode.workspace.workspaceFolders?.length ?? 0) > 1);
  }

  // ---- commands ----

  /** The nodes a command applies to: the selection it was invoked on, the node, or the view's selection. */
  private picked(node: IndexNode | undefined, nodes: IndexNode[] | undefined): IndexNode[] {
    const picked = nodes?.length ? nodes : node ? [node] : [...this.view.selection];
    // The item passed in may be an older render: act on the current state of the same folder.
    return picked.map((p) => this.current(p) ?? p);
  }

  /** The runs a command applies to (sweeps in the selection are left out). */
  private targets(node: IndexNode | undefined, nodes: IndexNode[] | undefined): RunEntry[] {
    return this.picked(node, nodes).filter((e): e is RunEntry => e.kind === 'run');
  }

  /** Compare: the selected runs (a selected sweep brings all its runs). */
  private async compare(picked: IndexNode[]): Promise<void> {
    const paths: string[] = [];
    for (const e of picked) {
      if (e.kind === 'sweep') {
        if (e.index) paths.push(e.dir);
      } else if (e.result) paths.push(e.dir);
    }
    const unique = [...new Set(paths)];
    if (!unique.length) {
      void vscode.window.showInformationMessage('Continual Workbench: select runs with results (or a sweep) to compare them.');
      return;
    }
    await this.deps.compare(unique);
  }

  private async resumeSweep(picked: IndexNode[]): Promise<void> {
    for (const e of picked) if (e.kind === 'sweep') await this.deps.resumeSweep(e.dir);
  }

  private async open(targets: RunEntry[]): Promise<void> {
    for (const e of targets) {
      if (e.live) {
        if (e.status === 'queued') void vscode.window.showInformationMessage(`"${e.name}" is queued: its panel opens when it starts (setting continualWorkbench.maxConcurrentRuns).`);
        else await vscode.commands.executeCommand('continualWorkbench.showRun', e.live.id);
      } else if (e.problem === NO_RESULT_FILE) {
        await this.reveal(e, 'revealInExplorer');
      } else {
        await vscode.commands.executeCommand('continualWorkbench.openResult', vscode.Uri.file(e.resultFile));
      }
    }
  }

  private async rerun(targets: RunEntry[]): Promise<void> {
    for (const e of targets) {
      const recorded = e.result?.experiment;
      const file = e.result?.experimentFile;
      if (!recorded || !file) {
        void vscode.window.showWarningMessage(`Continual Workbench cannot rerun "${e.name}": ${e.problem ?? 'its result does not record the experiment and its file'}.`);
        continue;
      }
      await this.deps.rerunExperiment(recorded, file);
    }
  }

  private cancel(targets: RunEntry[]): void {
    for (const e of targets) {
      const run = e.live ? this.deps.runs.get(e.live.id) : undefined;
      if (run && run.phase !== 'ended') this.deps.runs.cancel(run);
    }
    this.scheduleRedraw(true);
  }

  private async reveal(e: IndexNode | undefined, command: 'revealInExplorer' | 'revealFileInOS'): Promise<void> {
    if (!e) return;
    await vscode.commands.executeCommand(command, vscode.Uri.file(e.dir));
  }

  private async delete(picked: IndexNode[]): Promise<void> {
    // A run inside a selected sweep goes with its sweep.
    const sweeps = new Set(picked.filter((e) => e.kind === 'sweep').map((e) => e.dir));
    const targets = picked.filter((e) => !(e.kind === 'run' && e.sweep && sweeps.has(e.sweep.dir)));
    if (!targets.length) return;
    const busy = targets.flatMap((e) => (e.kind === 'sweep' ? e.runs : [e])).filter((e) => e.live || e.status === 'running');
    if (busy.length) {
      const where = busy[0].live ? `cancel "${busy[0].name}" first` : `process ${busy[0].elsewhere?.pid ?? '?'} (another window or the CLI) is writing it`;
      void vscode.window.showWarningMessage(`Continual Workbench does not delete a run while it is ${busy[0].status}: ${where}.`);
      return;
    }
    if (!(await ensureTrustedForDelete())) return;
    const one = targets.length === 1 ? targets[0] : undefined;
    const what = one ? (one.kind === 'sweep' ? `the sweep "${one.name}" (${one.runs.length} runs)` : `the run "${one.name}"`) : `${targets.length} runs`;
    const folders = targets.map((e) => this.relativeDir(e.dir));
    const moveToTrash = 'Move to Trash';
    const pick = await vscode.window.showWarningMessage(
      `Delete ${what}?`,
      { modal: true, detail: `${folders.slice(0, 5).join('\n')}${folders.length > 5 ? `\n… and ${folders.length - 5} more` : ''}\n\nThe run folder${targets.length === 1 ? '' : 's'} and ${targets.length === 1 ? 'its' : 'their'} files (result, report, host metrics) move to the trash.` },
      moveToTrash,
    );
    if (pick !== moveToTrash) return;
    let permanently: boolean | undefined;
    for (const e of targets) {
      const uri = vscode.Uri.file(e.dir);
      try {
        await vscode.workspace.fs.delete(uri, { recursive: true, useTrash: true });
        this.deps.output.appendLine(`Runs view: moved ${e.dir} to the trash`);
      } catch (err) {
        // No trash here (a remote or web host without one): ask once before deleting for good.
        if (permanently === undefined) {
          const forGood = 'Delete Permanently';
          permanently =
            (await vscode.window.showWarningMessage(`Cannot move ${e.folderName} to the trash: ${(err as Error).message}`, { modal: true, detail: 'Delete the run folders permanently instead? This cannot be undone.' }, forGood)) === forGood;
        }
        if (!permanently) break;
        try {
          await vscode.workspace.fs.delete(uri, { recursive: true, useTrash: false });
          this.deps.output.appendLine(`Runs view: deleted ${e.dir}`);
        } catch (err2) {
          void vscode.window.showErrorMessage(`Continual Workbench could not delete ${e.dir}: ${(err2 as Error).message}`);
        }
      }
    }
    await this.rescan();
  }

  dispose(): void {
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    if (this.redrawTimer) clearTimeout(this.redrawTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const { subs } of this.tracked.values()) for (const s of subs) s.dispose();
    this.tracked.clear();
    for (const w of this.watchers) w.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

export const UNTRUSTED_DELETE_MESSAGE =
  'Continual Workbench does not delete runs in Restricted Mode: deleting writes to the workspace. Trust this workspace to delete runs; viewing them works without it.';

/** Deleting is a write into the workspace: only in a trusted workspace (as runs, trust.ts). */
async function ensureTrustedForDelete(): Promise<boolean> {
  if (canRunExperiments()) return true;
  const manage = 'Manage Workspace Trust';
  const pick = await vscode.window.showWarningMessage(UNTRUSTED_DELETE_MESSAGE, manage);
  if (pick === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

// VS Code glue: commands, the run manager, panels, the result editor, diagnostics. Activation
// only registers things; nothing heavy runs until a command or an experiment file needs it.
import { bundleLoadStart } from './loadStart';
import * as vscode from 'vscode';
import type { ExperimentSpec, NormalisedExperiment } from '../protocol/experiment';
import type { ExperimentDiagnostic } from '../engine/config/load';
import { ExperimentCodeLensProvider, EXPERIMENT_SELECTOR, validationMessage } from './codeLens';
import { ExperimentDiagnostics, isExperimentUri } from './diagnostics';
import { experimentTemplate, freeExperimentName } from './experimentTemplate';
import { WorkbenchPanel, type PanelDeps } from './panel';
import { RESULT_OPTION_VIEW_TYPE, RESULT_VIEW_TYPE, ResultEditorProvider } from './resultEditor';
import { resolveResultsDir } from './runFolder';
import { RunManager, type Run } from './runManager';
import { replaySpecFor } from './panelContext';
import { RunsView } from './runsView';
import { PanelResultMemory, registerWorkbenchSerializer } from './serializer';
import { ensureTrustedForRun } from './trust';
import { ComparePanel } from './comparePanel';
import { askSlurmOptions, clusterStates, resumeSweep, startLocalSweep, startSlurmSweep, type SweepDeps, type SweepFile } from './sweeps';

export const OUTPUT_CHANNEL_NAME = 'Continual Workbench';

// Imports are evaluated before this line: the time to load the bundle's modules.
const bundleEvalMs = performance.now() - bundleLoadStart;

let runManager: RunManager | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const activateStart = performance.now();
  const output = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME);
  const runs = new RunManager({ extensionUri: context.extensionUri, globalStorageUri: context.globalStorageUri, output });
  runManager = runs;
  const diagnostics = new ExperimentDiagnostics();
  const memory = new PanelResultMemory(context.workspaceState);

  const deps: PanelDeps = {
    extensionUri: context.extensionUri,
    runs,
    output,
    runExperiment: (uri) => runExperiment(uri),
    rerunExperiment: (recorded, file) => rerunExperiment(recorded, file),
    rememberPanelResult: (title, resultFile) => memory.remember(title, resultFile),
  };
  /** Runs that had to wait for a free slot: their panels open behind what the user is looking at. */
  const waited = new Set<string>();
  // The Runs view follows every run started here, queued ones too (onDidLaunch waits for a slot).
  const compare = (paths: string[]) => ComparePanel.show({ extensionUri: context.extensionUri, output, globalStorageUri: context.globalStorageUri }, paths);
  const sweepDeps: SweepDeps = { runs, output, extensionUri: context.extensionUri, compare };
  const runsView = new RunsView({
    runs,
    output,
    rerunExperiment: (recorded, file) => rerunExperiment(recorded, file),
    compare,
    resumeSweep: (dir) => resumeSweep(sweepDeps, dir).then((started) => started.forEach(startedRun)),
    clusterStates,
  });
  const started = (run: Run): Run => {
    if (run.phase === 'queued') waited.add(run.id);
    runsView.track(run);
    return run;
  };
  /** A sweep's run: followed by the Runs view (its panel is the sweep's compare panel, not one per run). */
  const startedRun = (run: Run): void => runsView.track(run);

  /** Rerun: the experiment recorded in a result, whatever its file says now (replay.ts). */
  async function rerunExperiment(recorded: NormalisedExperiment, file: string): Promise<Run | undefined> {
    if (!(await ensureTrustedForRun())) return undefined;
    let replay;
    try {
      replay = await replaySpecFor(recorded, file);
    } catch (e) {
      void vscode.window.showErrorMessage(`Continual Workbench cannot rerun "${recorded.name}": ${(e as Error).message}. Run the file again instead.`);
      return undefined;
    }
    try {
      return started(runs.start({ experimentFile: file, experiment: recorded, workspaceFolder: vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))?.uri.fsPath, replay }));
    } catch (e) {
      void vscode.window.showErrorMessage(`Continual Workbench: cannot create the run folder: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** Validates an experiment file (saving it first); undefined after saying why it cannot run. */
  async function validatedFile(uri: vscode.Uri): Promise<{ experiment: NormalisedExperiment; sweep?: SweepFile } | undefined> {
    if (uri.scheme !== 'file') {
      void vscode.window.showErrorMessage(`Continual Workbench runs experiment files on disk; ${uri.toString(true)} is not one.`);
      return undefined;
    }
    const name = uri.path.split('/').pop();
    // The trainer reads the file from disk: unsaved edits would not be what runs.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open?.isDirty && !(await open.save())) {
      void vscode.window.showWarningMessage(`Save ${name} to run it.`);
      return undefined;
    }
    let text: string;
    try {
      text = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch (e) {
      void vscode.window.showErrorMessage(`Cannot read ${uri.fsPath}: ${(e as Error).message}`);
      return undefined;
    }
    const parsed = await diagnostics.publish(uri, text);
    if (!parsed.experiment) {
      const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
      for (const d of errors) output.appendLine(`${d.file}:${d.line}:${d.column}: ${d.message}`);
      // The refusal names the first problem (in Problems as an error, in the same words).
      const showProblems = 'Show Problems';
      const pick = await vscode.window.showErrorMessage(validationMessage(name ?? uri.fsPath, parsed).text, showProblems);
      if (pick === showProblems) await showProblemsAt(uri, errors[0]);
      return undefined;
    }
    const workspaceFolder = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath;
    const sweep = parsed.sweep ? { file: uri.fsPath, name: parsed.experiment.name, expansion: parsed.sweep, workspaceFolder } : undefined;
    return { experiment: parsed.experiment, ...(sweep ? { sweep } : {}) };
  }

  async function runExperiment(uri: vscode.Uri): Promise<Run | Run[] | undefined> {
    if (!(await ensureTrustedForRun())) return undefined;
    const valid = await validatedFile(uri);
    if (!valid) return undefined;
    if (valid.sweep) {
      // Seeds or a sweep: a sweep folder, its runs through the queue (setting maxConcurrentRuns).
      try {
        const runsOfSweep = await startLocalSweep(sweepDeps, valid.sweep);
        runsOfSweep.forEach(startedRun);
        return runsOfSweep;
      } catch (e) {
        void vscode.window.showErrorMessage(`Continual Workbench: cannot start the sweep: ${(e as Error).message}`);
        return undefined;
      }
    }
    const parsed = valid;
    try {
      return started(
        runs.start({
          experimentFile: uri.fsPath,
          experiment: parsed.experiment,
          workspaceFolder: vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath,
        }),
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`Continual Workbench: cannot create the run folder: ${(e as Error).message}`);
      return undefined;
    }
  }

  context.subscriptions.push(
    output,
    runs,
    diagnostics,
    runsView,
    runs.onDidLaunch((run) => {
      if (!run.sweepDir) WorkbenchPanel.showRun(deps, run, { background: waited.delete(run.id) });
    }),
    vscode.languages.registerCodeLensProvider(EXPERIMENT_SELECTOR, new ExperimentCodeLensProvider()),
    ResultEditorProvider.register(deps),
    registerWorkbenchSerializer(deps, memory),

    vscode.commands.registerCommand('continualWorkbench.runExperiment', async (arg?: unknown, selected?: unknown) => {
      for (const uri of await experimentTargets(arg, selected)) await runExperiment(uri);
    }),

    vscode.commands.registerCommand('continualWorkbench.runSweepOnSlurm', async (arg?: unknown) => {
      // Submitting runs code on the cluster from the workspace's files: only in a trusted workspace, as runs.
      if (!(await ensureTrustedForRun())) return;
      const [uri] = await experimentTargets(arg, undefined);
      if (!uri) return;
      if (uri.scheme !== 'file') {
        void vscode.window.showErrorMessage(`Continual Workbench submits experiment files on disk; ${uri.toString(true)} is not one.`);
        return;
      }
      const valid = await validatedFile(uri);
      if (!valid) return;
      const sweep: SweepFile = valid.sweep ?? {
        file: uri.fsPath,
        name: valid.experiment.name,
        // A plain experiment is a sweep of one run (index 0, no params).
        expansion: (await import('../engine/config/load')).expandExperiment(await plainSpec(uri)),
        workspaceFolder: vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath,
      };
      const options = await askSlurmOptions();
      if (!options) return;
      try {
        const dir = await startSlurmSweep(sweepDeps, sweep, options);
        if (dir) {
          await runsView.rescan();
          await vscode.commands.executeCommand('continualWorkbench.runs.focus');
        }
      } catch (e) {
        void vscode.window.showErrorMessage(`Continual Workbench: cannot submit the sweep: ${(e as Error).message}`);
      }
    }),

    // Internal (notifications): the compare panel of run or sweep folders.
    vscode.commands.registerCommand('continualWorkbench.openCompare', async (paths?: unknown) => {
      if (Array.isArray(paths) && paths.length && paths.every((p) => typeof p === 'string')) await compare(paths as string[]);
    }),

    vscode.commands.registerCommand('continualWorkbench.cancelRun', async (arg?: unknown) => {
      let targets = runs.unfinished;
      if (typeof arg === 'string') targets = targets.filter((r) => r.id === arg);
      else if (arg instanceof vscode.Uri) targets = targets.filter((r) => r.experimentFile === arg.fsPath);
      if (!targets.length) {
        void vscode.window.showInformationMessage('Continual Workbench: no run is active.');
        return;
      }
      if (targets.length > 1) {
        const picks = await vscode.window.showQuickPick(
          targets.map((r) => ({ label: r.name, description: r.phase, detail: r.runDir, run: r })),
          { canPickMany: true, title: 'Cancel Runs' },
        );
        targets = picks?.map((p) => p.run) ?? [];
      }
      for (const run of targets) runs.cancel(run);
    }),

    vscode.commands.registerCommand('continualWorkbench.newExperiment', async (arg?: unknown) => {
      const folder = arg instanceof vscode.Uri ? await folderOf(arg) : vscode.workspace.workspaceFolders?.[0]?.uri;
      let target: vscode.Uri | undefined;
      if (folder) {
        const names = new Set((await vscode.workspace.fs.readDirectory(folder)).map(([n]) => n));
        target = vscode.Uri.joinPath(folder, freeExperimentName((n) => names.has(n)));
      } else {
        target = await vscode.window.showSaveDialog({ filters: { 'Continual experiment': ['cl.json'] }, title: 'New Continual Experiment' });
      }
      if (!target) return;
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(experimentTemplate()));
      await vscode.window.showTextDocument(target, { preview: false });
    }),

    vscode.commands.registerCommand('continualWorkbench.openResult', async (arg?: unknown) => {
      const uri = arg instanceof vscode.Uri ? arg : await pickResultFile();
      if (!uri) return;
      const viewType = /\/\.continual\/runs\/.+\/result\.json$/.test(uri.path) ? RESULT_VIEW_TYPE : RESULT_OPTION_VIEW_TYPE;
      await vscode.commands.executeCommand('vscode.openWith', uri, viewType);
    }),

    vscode.commands.registerCommand('continualWorkbench.showOutput', () => output.show()),

    vscode.commands.registerCommand('continualWorkbench.validateExperiment', async (arg?: unknown) => {
      const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
      if (!uri || !isExperimentUri(uri)) {
        void vscode.window.showInformationMessage('Continual Workbench: open an experiment file (*.cl.json) to validate it.');
        return;
      }
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      let text: string;
      try {
        text = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      } catch (e) {
        void vscode.window.showErrorMessage(`Cannot read ${uri.fsPath}: ${(e as Error).message}`);
        return;
      }
      const parsed = await diagnostics.publish(uri, text);
      const message = validationMessage(uri.path.split('/').pop() ?? uri.fsPath, parsed);
      if (message.severity === 'info') {
        void vscode.window.showInformationMessage(message.text);
        return;
      }
      const showProblems = 'Show Problems';
      const show = message.severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
      const first = parsed.diagnostics.find((d) => d.severity === message.severity) ?? parsed.diagnostics[0];
      if ((await show(message.text, showProblems)) === showProblems) await showProblemsAt(uri, first);
    }),

    // Internal (status bar, notifications): reveal a run's panel, reopening it if it was closed.
    vscode.commands.registerCommand('continualWorkbench.showRun', (id?: unknown) => {
      if (typeof id !== 'string' || WorkbenchPanel.reveal(id)) return;
      const run = runs.get(id);
      if (run && run.phase !== 'queued') WorkbenchPanel.showRun(deps, run);
    }),
  );

  const activateMs = performance.now() - activateStart;
  const activationMs = bundleEvalMs + activateMs;
  output.appendLine(`Continual Workbench activated in ${activationMs.toFixed(1)} ms (loading the bundle ${bundleEvalMs.toFixed(1)} ms + activate() ${activateMs.toFixed(1)} ms)`);
  void writeActivationRecord(context, { activationMs: round(activationMs), bundleEvalMs: round(bundleEvalMs), activateMs: round(activateMs) }, output);
}

export function deactivate(): Promise<void> | undefined {
  return runManager?.shutdown();
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** <globalStorage>/activation.json: the last activation's timing, for tests and bug reports. */
async function writeActivationRecord(context: vscode.ExtensionContext, times: Record<string, number>, output: vscode.OutputChannel): Promise<void> {
  try {
    await vscode.workspace.fs.createDirectory(context.globalStorageUri);
    const record = { ...times, at: new Date().toISOString(), vscodeVersion: vscode.version, extensionVersion: context.extension.packageJSON.version };
    const file = vscode.Uri.joinPath(context.globalStorageUri, 'activation.json');
    await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(JSON.stringify(record, null, 2) + '\n'));
  } catch (e) {
    output.appendLine(`could not write activation.json: ${(e as Error).message}`);
  }
}

/** The experiment files a run command applies to: the selection, the argument, the editor, or a pick. */
async function experimentTargets(arg: unknown, selected: unknown): Promise<vscode.Uri[]> {
  if (Array.isArray(selected)) {
    const uris = selected.filter((u): u is vscode.Uri => u instanceof vscode.Uri && isExperimentUri(u));
    if (uris.length) return uris;
  }
  if (arg instanceof vscode.Uri) return [arg];
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && isExperimentUri(active)) return [active];
  const found = await vscode.workspace.findFiles('**/*.cl.json', '**/node_modules/**', 500);
  if (found.length === 1) return found;
  if (!found.length) {
    const create = 'New Continual Experiment';
    const pick = await vscode.window.showInformationMessage('No experiment file (*.cl.json) in this workspace.', create);
    if (pick === create) await vscode.commands.executeCommand('continualWorkbench.newExperiment');
    return [];
  }
  const pick = await vscode.window.showQuickPick(
    found
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((uri) => ({ label: uri.path.split('/').pop()!, description: vscode.workspace.asRelativePath(uri), uri })),
    { title: 'Run Continual Experiment', placeHolder: 'Experiment file' },
  );
  return pick ? [pick.uri] : [];
}

/** Past runs of every workspace folder (newest first), or a file picked by hand. */
async function pickResultFile(): Promise<vscode.Uri | undefined> {
  const browse = { label: '$(folder-opened) Browse…', uri: undefined as vscode.Uri | undefined, description: '' };
  const items: (typeof browse)[] = [];
  let firstDir: vscode.Uri | undefined;
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme !== 'file') continue;
    const setting = vscode.workspace.getConfiguration('continualWorkbench', folder.uri).get<string>('resultsDir');
    const dir = vscode.Uri.file(resolveResultsDir(setting, folder.uri.fsPath, folder.uri.fsPath));
    firstDir ??= dir;
    let entries: [string, vscode.FileType][] = [];
    try {
      entries = await vscode.workspace.fs.readDirectory(dir);
    } catch {
      continue;
    }
    for (const [name, type] of entries.sort(([a], [b]) => b.localeCompare(a))) {
      if (type !== vscode.FileType.Directory) continue;
      const uri = vscode.Uri.joinPath(dir, name, 'result.json');
      try {
        await vscode.workspace.fs.stat(uri);
      } catch {
        continue;
      }
      items.push({ label: name, uri, description: vscode.workspace.asRelativePath(uri) });
    }
  }
  const pick = items.length ? await vscode.window.showQuickPick([...items, browse], { title: 'Open Result in Workbench', placeHolder: 'Run' }) : browse;
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, defaultUri: firstDir, filters: { 'Run result': ['json'] }, title: 'Open Result in Workbench' });
  return chosen?.[0];
}

/** A plain experiment file's spec as written (the one run of a Slurm submission of it). */
async function plainSpec(uri: vscode.Uri): Promise<ExperimentSpec> {
  return JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri))) as ExperimentSpec;
}

/** Opens the file at a problem (the first one) and the Problems view. */
async function showProblemsAt(uri: vscode.Uri, first: ExperimentDiagnostic | undefined): Promise<void> {
  const at = first ? new vscode.Range(first.line - 1, first.column - 1, first.endLine - 1, first.endColumn - 1) : undefined;
  await vscode.window.showTextDocument(uri, at ? { selection: at } : {});
  await vscode.commands.executeCommand('workbench.actions.view.problems');
}

async function folderOf(uri: vscode.Uri): Promise<vscode.Uri> {
  try {
    if ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.Directory) return uri;
  } catch {
    // fall through: treat as a file
  }
  return vscode.Uri.joinPath(uri, '..');
}

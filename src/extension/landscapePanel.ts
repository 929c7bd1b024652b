// The VS Code side of a run panel's landscapes (landscapeJobs.ts): the trainer bundled with the
// extension, the panel's result and run folder, Restricted Mode, the dataDir setting, and a fair
// share of the cores while runs train.
import * as vscode from 'vscode';
import { join } from 'node:path';
import { THREADS_ENV, threadsPerRun } from '../engine/cores';
import type { ToWebviewMessage } from '../protocol/webview';
import { PanelLandscapes } from './landscapeJobs';
import { startTrainerJob } from './trainerJob';
import { canRunExperiments, UNTRUSTED_RUN_MESSAGE } from './trust';
import type { WorkbenchDeps, WorkbenchSource } from './workbenchView';

export function panelLandscapes(deps: Pick<WorkbenchDeps, 'extensionUri' | 'runs' | 'output'>, source: WorkbenchSource, post: (m: ToWebviewMessage) => void): PanelLandscapes {
  const resultFile = () => source.state()?.resultFile ?? (source.resultUri()?.scheme === 'file' ? source.resultUri()!.fsPath : undefined);
  // Trusting the workspace lets jobs start: the chooser's Compute comes on without reopening the panel.
  const trust = vscode.workspace.onDidGrantWorkspaceTrust(() => landscapes.refresh());
  const landscapes = new PanelLandscapes({
    post,
    result: () => source.state()?.result,
    resultFile,
    // A job starts a process that reads the run's data paths: as a run, it needs a trusted workspace.
    refusal: () => (canRunExperiments() ? undefined : UNTRUSTED_RUN_MESSAGE),
    dataDir: () => {
      const file = resultFile();
      return vscode.workspace.getConfiguration('continualWorkbench', file ? vscode.Uri.file(file) : undefined).get<string>('dataDir')?.trim() || undefined;
    },
    start: (request, onMessage) =>
      startTrainerJob({
        request,
        entry: join(vscode.Uri.joinPath(deps.extensionUri, 'dist').fsPath, 'trainer.js'),
        cwd: request.type === 'landscape' ? request.runDir : undefined,
        // Its share of the cores beside the runs training now (engine/cores.ts).
        env: { [THREADS_ENV]: String(threadsPerRun(deps.runs.unfinished.length + 1)) },
        onMessage,
        onStderr: (line) => deps.output.appendLine(`[landscape] ${line}`),
      }),
    log: (line) => deps.output.appendLine(line),
    dispose: () => trust.dispose(),
  });
  return landscapes;
}

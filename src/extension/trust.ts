// Workspace trust: a run starts a process that reads paths from the experiment file and writes
// into the workspace, so runs need a trusted workspace. Viewing results does not.
import * as vscode from 'vscode';

export const UNTRUSTED_RUN_MESSAGE =
  'Continual Workbench cannot run experiments in Restricted Mode: a run starts a training process that reads the data paths in the experiment file and writes results into the workspace. Trust this workspace to run experiments; viewing results works without it.';

export const canRunExperiments = (): boolean => vscode.workspace.isTrusted;

/** True when runs are allowed; otherwise explains why not and offers to manage trust. */
export async function ensureTrustedForRun(): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  const pick = await vscode.window.showWarningMessage(UNTRUSTED_RUN_MESSAGE, manage);
  if (pick === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

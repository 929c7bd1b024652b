// CodeLens over experiment files: Run and Validate above the experiment (experimentLens.ts).
import * as vscode from 'vscode';
import { experimentLenses } from './experimentLens';

export { validationMessage } from './experimentLens';

export const EXPERIMENT_SELECTOR: vscode.DocumentSelector = [{ pattern: '**/*.cl.json' }];

export class ExperimentCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const model = experimentLenses(document.getText());
    const range = new vscode.Range(model.line, 0, model.line, 0);
    return model.lenses.map((l) => new vscode.CodeLens(range, { title: l.title, command: l.command, tooltip: l.tooltip, arguments: [document.uri] }));
  }
}

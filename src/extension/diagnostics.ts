// Problems for experiment files (*.cl.json): the same parse + schema + semantic checks the
// trainer runs, on open, on change (debounced) and on save. Errors (which stop a run) are errors,
// warnings (what the engine will change, what is ignored) warnings. VS Code's JSON service gets a
// schema that reports nothing (engine/config/editorSchema.ts), so each problem is listed once, in
// these words; only JSON syntax errors and duplicate keys are left to it, as it reports them anyway.
// In Restricted Mode a task path outside the workspace and the data directories is an error too.
import * as vscode from 'vscode';
import type { ExperimentDiagnostic, ParsedExperiment } from '../engine/config/load';
import type { DataRoots } from '../engine/config/dataPaths';
import { diagnosticRange, lineLengths } from './diagnosticRange';

export const DIAGNOSTIC_SOURCE = 'continual-workbench';
const CHANGE_DEBOUNCE_MS = 300;
/** = EXPERIMENT_FILE_SUFFIX of engine/config/load (a unit test keeps them equal; importing it would load the validator). */
export const EXPERIMENT_SUFFIX = '.cl.json';

// The validator (ajv + the schema) loads on first use, not during activation: opening a result
// file or restoring a panel never needs it.
let configModule: Promise<typeof import('../engine/config/load')> | undefined;
const loadConfigModule = () => (configModule ??= import('../engine/config/load'));
let dataPathsModule: Promise<typeof import('../engine/config/dataPaths')> | undefined;
const loadDataPathsModule = () => (dataPathsModule ??= import('../engine/config/dataPaths'));

export const isExperimentUri = (uri: vscode.Uri) => uri.path.toLowerCase().endsWith(EXPERIMENT_SUFFIX);

/** The diagnostic in VS Code's terms; with the text's line lengths (lineLengths) its range is kept inside the text. */
export function toVsDiagnostic(d: ExperimentDiagnostic, lines?: readonly number[]): vscode.Diagnostic {
  const { start, end } = diagnosticRange(d, lines);
  const severity = d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
  const range = new vscode.Range(new vscode.Position(start.line, start.character), new vscode.Position(end.line, end.character));
  const diagnostic = new vscode.Diagnostic(range, d.message, severity);
  diagnostic.source = DIAGNOSTIC_SOURCE;
  return diagnostic;
}

/**
 * What the extension lists in Problems: everything but the JSON syntax errors and duplicate keys,
 * which VS Code's JSON service reports itself in the same places (an empty file it leaves alone).
 */
export function editorDiagnostics(parsed: ParsedExperiment, text: string): ExperimentDiagnostic[] {
  return parsed.diagnostics.filter((d) => d.origin !== 'syntax' || text.trim() === '');
}

/**
 * Where task paths may lead in Restricted Mode: the workspace folders and the data directories
 * the user configured (the user's own dataDir setting, not the untrusted workspace's, and
 * CLW_DATA_DIR).
 */
function dataRoots(): DataRoots {
  const setting = vscode.workspace.getConfiguration('continualWorkbench').inspect<string>('dataDir')?.globalValue;
  return {
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
    dataDirs: [setting, process.env.CLW_DATA_DIR].filter((d): d is string => typeof d === 'string' && d.trim() !== ''),
  };
}

export class ExperimentDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection(DIAGNOSTIC_SOURCE);
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly disposables: vscode.Disposable[] = [this.collection];

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((doc) => this.validate(doc)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)),
      vscode.workspace.onDidSaveTextDocument((doc) => this.validate(doc)),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        this.cancelTimer(doc.uri);
        if (isExperimentUri(doc.uri)) this.collection.delete(doc.uri);
      }),
      // Trusting the workspace lifts the Restricted Mode path errors.
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        for (const doc of vscode.workspace.textDocuments) this.validate(doc);
      }),
    );
    for (const doc of vscode.workspace.textDocuments) this.validate(doc);
  }

  /** Validates an open experiment document now. */
  private validate(doc: vscode.TextDocument): void {
    if (!isExperimentUri(doc.uri)) return;
    this.cancelTimer(doc.uri);
    void this.publish(doc.uri, doc.getText());
  }

  /** Validates the text of an experiment file and publishes the problems; returns the parse for callers that go on to run. */
  async publish(uri: vscode.Uri, text: string): Promise<ParsedExperiment> {
    const { parseExperiment } = await loadConfigModule();
    let parsed = parseExperiment(text, uri.fsPath);
    if (!vscode.workspace.isTrusted && uri.scheme === 'file') {
      const { dataPathDiagnostics } = await loadDataPathsModule();
      const outside = dataPathDiagnostics(text, uri.fsPath, dataRoots());
      if (outside.length) {
        const diagnostics = [...parsed.diagnostics, ...outside].sort((a, b) => a.offset - b.offset);
        parsed = { experiment: null, diagnostics };
      }
    }
    const lines = lineLengths(text);
    this.collection.set(uri, editorDiagnostics(parsed, text).map((d) => toVsDiagnostic(d, lines)));
    return parsed;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private schedule(doc: vscode.TextDocument): void {
    if (!isExperimentUri(doc.uri)) return;
    this.cancelTimer(doc.uri);
    const key = doc.uri.toString();
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (!doc.isClosed) void this.publish(doc.uri, doc.getText());
      }, CHANGE_DEBOUNCE_MS),
    );
  }

  private cancelTimer(uri: vscode.Uri): void {
    const key = uri.toString();
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
  }
}

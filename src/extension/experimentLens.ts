// What the CodeLens over an experiment file shows, and what Validate says. Pure (no vscode import).
import type { ParsedExperiment } from '../engine/config/load';
import { runSettingsSummary, scenarioName } from '../protocol/format';

export interface LensModel {
  /** 0-based line of the lenses: the experiment's opening brace. */
  line: number;
  lenses: { title: string; command: string; tooltip: string }[];
}

/** "Run" and "Validate" above the experiment's opening brace (the first line when there is none). */
export function experimentLenses(text: string): LensModel {
  const brace = text.indexOf('{');
  const line = brace < 0 ? 0 : text.slice(0, brace).split('\n').length - 1;
  return {
    line,
    lenses: [
      { title: '$(play) Run', command: 'continualWorkbench.runExperiment', tooltip: 'Run this experiment (saves the file first)' },
      { title: '$(check) Validate', command: 'continualWorkbench.validateExperiment', tooltip: 'Check the file with the engine, as a run would, and list the problems' },
    ],
  };
}

export interface ValidationMessage {
  severity: 'error' | 'warning' | 'info';
  text: string;
}

/** Validate's answer: the first problem by name and position, else what the experiment will run. */
export function validationMessage(fileName: string, parsed: ParsedExperiment): ValidationMessage {
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  const warnings = parsed.diagnostics.filter((d) => d.severity !== 'error');
  const more = (n: number, what: string) => (n > 1 ? ` (and ${n - 1} more ${what}${n - 1 === 1 ? '' : 's'})` : '');
  if (errors.length || !parsed.experiment) {
    const first = errors[0];
    return {
      severity: 'error',
      text: first ? `${fileName} cannot run: line ${first.line}: ${first.message}${more(errors.length, 'problem')}` : `${fileName} cannot run.`,
    };
  }
  const ex = parsed.experiment;
  const what = `${ex.tasks.length} task${ex.tasks.length === 1 ? '' : 's'}, ${scenarioName(ex.scenario)}, ${runSettingsSummary(ex)}`;
  if (warnings.length) return { severity: 'warning', text: `${fileName} can run (${what}), with a warning: line ${warnings[0].line}: ${warnings[0].message}${more(warnings.length, 'warning')}` };
  return { severity: 'info', text: `${fileName} is valid: ${what}.` };
}

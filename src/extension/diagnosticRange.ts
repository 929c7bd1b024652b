// Where a diagnostic goes in the editor: the validator's 1-based line/column range as the 0-based
// range VS Code takes, kept inside the document and never reversed. Pure (no vscode), so the fuzz
// test runs it on every case.
import type { ExperimentDiagnostic } from '../engine/config/source';

export interface EditorPosition {
  /** 0-based. */
  line: number;
  /** 0-based, in UTF-16 code units. */
  character: number;
}

export interface EditorRange {
  start: EditorPosition;
  end: EditorPosition;
}

/** The length of each line of a text, split as VS Code splits it (\r\n, \n or \r). */
export function lineLengths(text: string): number[] {
  const lengths: number[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      lengths.push(i - start);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
  }
  lengths.push(text.length - start);
  return lengths;
}

const finiteOr = (v: number, fallback: number) => (Number.isFinite(v) ? Math.trunc(v) : fallback);

function clamp(line1: number, column1: number, lines: readonly number[] | undefined): EditorPosition {
  let line = Math.max(0, finiteOr(line1, 1) - 1);
  let character = Math.max(0, finiteOr(column1, 1) - 1);
  if (lines) {
    if (line > lines.length - 1) {
      line = lines.length - 1;
      character = lines[line];
    }
    character = Math.min(character, lines[line]);
  }
  return { line, character };
}

/**
 * The editor range of a diagnostic; with the text's line lengths (lineLengths) it is clamped to
 * the text, and an end before the start collapses onto the start.
 */
export function diagnosticRange(d: Pick<ExperimentDiagnostic, 'line' | 'column' | 'endLine' | 'endColumn'>, lines?: readonly number[]): EditorRange {
  const start = clamp(d.line, d.column, lines);
  const end = clamp(d.endLine, d.endColumn, lines);
  const before = end.line < start.line || (end.line === start.line && end.character < start.character);
  return { start, end: before ? { ...start } : end };
}

// Helpers shared by the compare cards: colours of groups, figure composition for exports.
import type { Palette } from '../../theme';
import { taskColor } from '../../theme';
import type { MatrixEntity } from '../../compare/model';
import type { ChartExport, FigureExporter } from '../../exporting';
import { toolButton } from '../section';

/** One colour per group (the Okabe & Ito cycle); a run takes its group's. */
export const groupColor = (p: Palette, group: number): string => taskColor(p, group);

/** Row heads of an R matrix: "after <task>" (phase i trained task i in the runs compared). */
export function matrixRowLabels(e: MatrixEntity): string[] {
  return e.rows.map((_, i) => `after ${e.tasks[i] ?? `phase ${i}`}`);
}

/** Columns of small multiples that fit `width` at `min` px each (at least one, at most `n`). */
export function columnsFor(width: number, n: number, min: number): number {
  return Math.max(1, Math.min(n, Math.floor(width / min)));
}

/** SVG and PNG buttons in a card's tools that export `figure()` through the current context's exporter. */
export function chartExportTools(doc: Document, tools: HTMLElement, key: string, what: string, figure: () => ChartExport | null, figures: () => FigureExporter | null): void {
  const run = (format: 'svg' | 'png') => {
    const f = figure();
    const x = figures();
    if (f && x) void x.chart(f, format).catch((e: unknown) => console.error('export failed', e));
  };
  tools.append(toolButton(doc, 'SVG', `export-${key}-svg`, `Save ${what} as SVG`, () => run('svg')), toolButton(doc, 'PNG', `export-${key}-png`, `Save ${what} as PNG`, () => run('png')));
}

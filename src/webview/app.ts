// The workbench: the header and the cards of the single-run layout (cards/registry.ts RUN_CARDS), or
// the compare layout (compareView.ts) when the view holds a comparison. Renders a ViewModel; knows
// nothing about where the state comes from (panel messages or report).
import type { RunResult } from '../protocol/result';
import { experimentName } from '../protocol/format';
import { createHeader } from './header';
import type { PanelView } from './controller';
import { createRunLandscapeCard } from './cards/run/landscape';
import { createExporter, createFigureExporter, figureSubtitle, type ExportStyle } from './exporting';
import { h, measuredWidth } from './dom';
import { RUN_CARDS, mountCards } from './cards/registry';
import type { CardContext, CardInstance } from './cards/types';
import type { RunSubject } from './cards/run/subject';
import { createCompareView, type CompareView } from './compareView';
import { readPalette, type Palette } from './theme';
import type { Post } from './host';

export type { ViewModel } from './header';
export { TWO_COLUMNS_MIN, matrixRoom } from './cards/run/matrix';

export interface WorkbenchOptions {
  /** Width used when the document has no layout (tests). */
  fallbackWidth?: number;
  /** Palette override (tests); otherwise read from the theme. */
  palette?: Palette;
  /** Clock for the time left (tests). */
  now?: () => number;
  /** Registers the landscape chooser's select elements (default: the bundle's; tests pass a no-op). */
  defineControls?: () => void;
}

export interface Workbench {
  render(view: PanelView): void;
  /** Re-reads theme colours; the next render redraws every chart. */
  refreshTheme(): void;
  dispose(): void;
}

export function createWorkbench(root: HTMLElement, post: Post, options: WorkbenchOptions = {}): Workbench {
  const doc = root.ownerDocument;
  const fallbackWidth = options.fallbackWidth ?? 960;
  let palette: Palette = options.palette ?? readPalette(doc.body);
  let view: PanelView | null = null;
  const result = (): RunResult | null => view?.state?.result ?? null;
  let exportStyle: ExportStyle = 'publication';
  const exporter = createExporter(doc, result, () => palette, post, () => exportStyle);

  const app = h(doc, 'div', { class: 'clw' });
  root.append(app);
  // The other layout of the same cards: several runs (made when a comparison first arrives).
  let compareView: CompareView | null = null;
  const header = createHeader(app, { post, runFile: () => post({ type: 'runFile' }), exportJson: () => exporter.json(), now: options.now });
  // How charts export: for a paper (white, black, 300 dpi, titled) or as the panel shows them.
  const styleBar = h(doc, 'div', { class: 'export-style', role: 'group', 'aria-label': 'Export style of the charts', 'data-testid': 'export-style' });
  const styleLabel = h(doc, 'span', { class: 'muted' }, 'Chart exports:');
  const styleButtons = (['publication', 'theme'] as const).map((style) => {
    const b = h(
      doc,
      'vscode-button',
      {
        class: 'tool',
        'data-testid': `export-style-${style}`,
        title: style === 'publication' ? 'White background, black text, titled, PNG at 300 dpi: for papers' : 'The panel’s own colours, as you see them',
      },
      style === 'publication' ? 'Publication' : 'Theme',
    );
    b.addEventListener('click', () => {
      exportStyle = style;
      syncStyle();
    });
    return b;
  });
  const syncStyle = () =>
    styleButtons.forEach((b, i) => {
      const on = (i === 0 ? 'publication' : 'theme') === exportStyle;
      b.setAttribute('aria-pressed', String(on));
      b.toggleAttribute('secondary', !on);
    });
  syncStyle();
  styleBar.append(styleLabel, ...styleButtons);
  const content = h(doc, 'div', { class: 'content' });
  app.append(styleBar, content);

  // The cards of the single-run layout (cards/registry.ts), made on first use.
  const cards = new Map<string, CardInstance<RunSubject>>();
  // The landscape card of a panel chooses planes through the host (mountCards keeps this instance).
  cards.set('landscape', createRunLandscapeCard(doc, { post, landscapes: () => view?.landscapes, defineControls: options.defineControls }));
  const figures = createFigureExporter(
    doc,
    () => {
      const r = result();
      return r ? { name: experimentName(r), subtitle: figureSubtitle(r), seed: r.experiment?.seed } : null;
    },
    () => palette,
    post,
    () => exportStyle,
  );
  let epoch = 0;

  return {
    render(next) {
      view = next;
      root.removeAttribute('aria-busy'); // the host marks the panel busy until the first render
      if (next.comparison) {
        app.hidden = true;
        compareView ??= createCompareView(root, post, { fallbackWidth });
        compareView.el.hidden = false;
        compareView.render(next.comparison, palette);
        return;
      }
      app.hidden = false;
      if (compareView) compareView.el.hidden = true;
      header.update(next);
      const state = next.state;
      if (!state) {
        content.hidden = true;
        styleBar.hidden = true;
        return;
      }
      content.hidden = false;
      const r = state.result;
      const subject: RunSubject = { view: next, state };
      // Attach the cards first so the charts measure their real width.
      const active = mountCards(doc, content, RUN_CARDS, cards, subject);
      const ctx: CardContext<RunSubject> = { doc, subject, palette, width: measuredWidth(content, fallbackWidth), figures, epoch, change: () => {} };
      for (const card of active) card.render(ctx);
      styleBar.hidden = !r.curves.length && !r.accuracyMatrix.length;
    },
    refreshTheme() {
      if (!options.palette) palette = readPalette(doc.body);
      epoch++;
    },
    dispose() {
      compareView?.dispose();
      for (const c of cards.values()) c.dispose?.();
      app.remove();
    },
  };
}

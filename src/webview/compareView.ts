// The compare layout: a comparison of runs (groups of seeds as mean ± SEM) drawn by the compare
// cards of the registry. A header says what is compared (and what could not be: unreadable runs,
// excluded seeds, warnings); a switch shows groups or single runs; the export style applies to
// every chart. The landscape cards (several runs on one plane, paths between solutions) talk to the
// host through their own store (cards/compare/planeState.ts), fed here from the host's messages or
// from an outcome a static compare.html embeds.
import type { Comparison } from '../protocol/compare';
import { PLANE_ELEMENT_ID, type PlaneJobOutcome } from '../protocol/planeMessages';
import { h, measuredWidth } from './dom';
import { COMPARE_CARDS, mountCards } from './cards/registry';
import { planeCard } from './cards/compare/plane';
import { pathsCard } from './cards/compare/paths';
import { listenForPlaneMessages, planeStoreFor } from './cards/compare/planeState';
import type { CardContext, CardInstance } from './cards/types';
import { compareSubject, withLevel, type CompareSubject } from './compare/subject';
import { createFigureExporter, type ExportStyle, type ExportSubject } from './exporting';
import type { Palette } from './theme';
import type { Post } from './host';
import type { CompareLevel } from './compare/model';

// At load, before the first comparison renders: the plane's messages may arrive before the view exists.
if (typeof window !== 'undefined') listenForPlaneMessages(window);

export interface CompareView {
  el: HTMLElement;
  render(comparison: Comparison, palette: Palette): void;
  /** The subject shown (tests, persistence). */
  subject(): CompareSubject | null;
  dispose(): void;
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** "6 runs in 2 groups · 1 excluded": what the header says is compared. */
export function compareSummary(c: Comparison): string {
  const excluded = c.runs.filter((r) => r.excluded).length;
  return [plural(c.runs.length, 'run'), `in ${plural(c.groups.length, 'group')}`].join(' ') + (excluded ? ` · ${excluded} excluded` : '') + (c.unreadable.length ? ` · ${c.unreadable.length} unreadable` : '');
}

export function createCompareView(parent: HTMLElement, post: Post, options: { fallbackWidth?: number } = {}): CompareView {
  const doc = parent.ownerDocument;
  const el = h(doc, 'div', { class: 'clw clw-compare', 'data-testid': 'compare' });
  parent.append(el);
  const header = h(doc, 'header', { class: 'clw-header' });
  const titleRow = h(doc, 'div', { class: 'title-row' });
  const title = h(doc, 'h1', { 'data-testid': 'cmp-title' });
  const summary = h(doc, 'span', { class: 'muted', 'data-testid': 'cmp-summary' });
  titleRow.append(title, summary);
  const notes = h(doc, 'ul', { class: 'notice cmp-notes', 'data-testid': 'cmp-notes' });
  header.append(titleRow, notes);

  const toolbar = h(doc, 'div', { class: 'export-style cmp-toolbar' });
  const levelGroup = h(doc, 'div', { class: 'scenario-switch', role: 'group', 'aria-label': 'Show groups or runs' });
  const levelButtons = (['group', 'run'] as const).map((level) => {
    const b = h(doc, 'vscode-button', { class: 'tool', 'data-testid': `cmp-level-${level}`, title: level === 'group' ? 'One entry per group of seeds: mean ± SEM' : 'One entry per run' }, level === 'group' ? 'Groups (mean ± SEM)' : 'Runs');
    b.addEventListener('click', () => subject && change(withLevel(subject, level)));
    return b;
  });
  levelGroup.append(h(doc, 'span', { class: 'muted' }, 'Show:'), ...levelButtons);
  let exportStyle: ExportStyle = 'publication';
  const styleButtons = (['publication', 'theme'] as const).map((style) => {
    const b = h(doc, 'vscode-button', { class: 'tool', 'data-testid': `export-style-${style}`, title: style === 'publication' ? 'White background, black text, titled, PNG at 300 dpi: for papers' : 'The panel’s own colours, as you see them' }, style === 'publication' ? 'Publication' : 'Theme');
    b.addEventListener('click', () => {
      exportStyle = style;
      syncButtons();
    });
    return b;
  });
  const styleGroup = h(doc, 'div', { class: 'scenario-switch', role: 'group', 'aria-label': 'Export style of the charts', 'data-testid': 'export-style' });
  styleGroup.append(h(doc, 'span', { class: 'muted' }, 'Chart exports:'), ...styleButtons);
  toolbar.append(levelGroup, styleGroup);
  const content = h(doc, 'div', { class: 'cmp-content' });
  el.append(header, toolbar, content);

  let subject: CompareSubject | null = null;
  let palette: Palette | null = null;
  const exportSubject = (): ExportSubject | null => (subject ? { name: subject.comparison.title, subtitle: `${subject.comparison.title} · ${compareSummary(subject.comparison)}` } : null);
  const figures = createFigureExporter(doc, exportSubject, () => palette!, post, () => exportStyle);
  const cards = new Map<string, CardInstance<CompareSubject>>();

  // The landscape cards' job: requests to the host (a VS Code webview only), its messages back.
  const plane = planeStoreFor(doc);
  const win = doc.defaultView as (Window & { acquireVsCodeApi?: unknown }) | null;
  plane.canCompute = typeof win?.acquireVsCodeApi === 'function' && !doc.getElementById(PLANE_ELEMENT_ID);
  // Post carries the panels' messages; the plane's are validated by the compare panel on their own (protocol/planeMessages.ts).
  plane.post = post;
  const embedded = doc.getElementById(PLANE_ELEMENT_ID);
  if (embedded && !plane.outcome) {
    try {
      plane.outcome = JSON.parse(embedded.textContent ?? 'null') as PlaneJobOutcome | null;
    } catch (e) {
      console.error('the embedded plane is not valid JSON', e);
    }
  }
  if (win) listenForPlaneMessages(win);
  const offPlane = plane.onChange(() => draw());

  function syncButtons() {
    const press = (b: HTMLElement, on: boolean) => {
      b.setAttribute('aria-pressed', String(on));
      b.toggleAttribute('secondary', !on);
    };
    levelButtons.forEach((b, i) => press(b, (['group', 'run'] as CompareLevel[])[i] === subject?.level));
    styleButtons.forEach((b, i) => press(b, (i === 0 ? 'publication' : 'theme') === exportStyle));
  }

  function change(next: CompareSubject) {
    subject = next;
    draw();
  }

  function draw() {
    if (!subject || !palette) return;
    const c = subject.comparison;
    title.textContent = c.title;
    summary.textContent = compareSummary(c);
    const lines = [
      ...c.runs.filter((r) => r.excluded).map((r) => `Excluded: ${r.label} (${r.excluded}) — not averaged into its group.`),
      ...c.unreadable.map((u) => `Could not read ${u.path}: ${u.reason}`),
      ...c.warnings,
    ];
    notes.replaceChildren(...lines.map((l) => h(doc, 'li', {}, l)));
    notes.hidden = !lines.length;
    levelGroup.hidden = !c.groups.some((g) => g.members.length > 1);
    syncButtons();
    const layout = [...COMPARE_CARDS, planeCard, ...(plane.outcome?.paths ? [pathsCard] : [])];
    const els = mountCards(doc, content, layout, cards, subject);
    const width = measuredWidth(content, options.fallbackWidth ?? 960);
    const ctx: CardContext<CompareSubject> = { doc, subject, palette, width, figures, epoch: 0, change };
    for (const card of els) card.render(ctx);
  }

  return {
    el,
    render(comparison, p) {
      palette = p;
      subject = subject && subject.comparison === comparison ? subject : compareSubject(comparison, subject?.comparison.title === comparison.title ? subject : undefined);
      draw();
    },
    subject: () => subject,
    dispose() {
      offPlane();
      for (const c of cards.values()) c.dispose?.();
      el.remove();
    },
  };
}

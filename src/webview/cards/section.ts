// A card's frame: a titled section with a tools row (exports) and a body. Every card of both
// layouts (one run, a comparison) is built in one of these.
import { appendRichText, h } from '../dom';

export interface CardSection {
  el: HTMLElement;
  tools: HTMLElement;
  body: HTMLElement;
  /** Replaces the subtitle (cards whose subtitle depends on the data). */
  setSubtitle(text: string): void;
}

export function cardSection(doc: Document, cls: string, title: string, subtitle?: string, testid?: string): CardSection {
  const el = h(doc, 'section', { class: `card ${cls}`, 'data-testid': testid });
  const head = h(doc, 'div', { class: 'card-head' });
  const titles = h(doc, 'div', { class: 'card-titles' });
  titles.append(h(doc, 'h2', {}, title));
  const sub = h(doc, 'div', { class: 'card-subtitle muted' });
  const setSubtitle = (text: string) => {
    sub.replaceChildren();
    appendRichText(sub, text);
    sub.hidden = !text;
  };
  setSubtitle(subtitle ?? '');
  titles.append(sub);
  const tools = h(doc, 'div', { class: 'card-tools' });
  head.append(titles, tools);
  const body = h(doc, 'div', { class: 'card-body' });
  el.append(head, body);
  return { el, tools, body, setSubtitle };
}

export function toolButton(doc: Document, text: string, testid: string, title: string, onClick: () => void): HTMLElement {
  const b = h(doc, 'vscode-button', { secondary: true, 'data-testid': testid, title, class: 'tool' }, text);
  b.addEventListener('click', onClick);
  return b;
}

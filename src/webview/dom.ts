// Small DOM helpers. Text always goes in through textContent: labels, names and error messages are
// user data and must never be parsed as HTML.

export type Attrs = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, attrs?: Attrs, text?: string): HTMLElementTagNameMap[K];
export function h(doc: Document, tag: string, attrs?: Attrs, text?: string): HTMLElement;
export function h(doc: Document, tag: string, attrs: Attrs = {}, text?: string): HTMLElement {
  const el = doc.createElement(tag);
  setAttrs(el, attrs);
  if (text !== undefined) el.textContent = text;
  return el;
}

export function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) el.removeAttribute(k);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** Replaces the children of `parent` only when the list differs, so focus and hover survive re-renders. */
export function setChildren(parent: Element, children: Node[]): void {
  const cur = parent.childNodes;
  if (cur.length === children.length && children.every((c, i) => cur[i] === c)) return;
  parent.replaceChildren(...children);
}

/** Width available to a chart: its measured width, or a default where layout does not run (jsdom). */
export function measuredWidth(el: Element, fallback: number): number {
  const w = (el as HTMLElement).clientWidth;
  return w > 0 ? w : fallback;
}

/**
 * Appends `text` to `el`, writing "θ_A"-style names (θ_ followed by one letter or digit) with a real
 * subscript: <sub> in HTML, a baseline-shifted <tspan> in SVG. Everything else stays plain text.
 */
export function appendRichText(el: Element, text: string): void {
  const doc = el.ownerDocument;
  const svg = el.namespaceURI === 'http://www.w3.org/2000/svg';
  const re = /θ_([A-Za-z0-9])/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) el.append(doc.createTextNode(text.slice(last, m.index)));
    el.append(doc.createTextNode('θ'));
    if (svg) {
      const sub = doc.createElementNS('http://www.w3.org/2000/svg', 'tspan');
      sub.setAttribute('baseline-shift', 'sub');
      sub.setAttribute('font-size', '75%');
      sub.textContent = m[1];
      el.append(sub);
    } else {
      el.append(h(doc, 'sub', {}, m[1]));
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) el.append(doc.createTextNode(text.slice(last)));
}

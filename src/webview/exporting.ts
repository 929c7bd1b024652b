// Exports: charts as SVG/PNG, R as CSV, the whole result as JSON. The content goes to the host as an
// 'export' message (the report's host turns it into a download). Charts export in two styles:
// publication (white, black text, a declared font stack, title and axis labels, PNG at 300 dpi)
// and theme (the panel's colours, as seen).
import type { ExportFormat, FromWebviewMessage } from '../protocol/webview';
import type { RunResult } from '../protocol/result';
import { experimentName, phaseLabels, runSetupTitle, taskLabels } from '../protocol/format';
import { publicationPalette, type Palette } from './theme';
import { textWidth } from './charts/axes';

export type ExportStyle = 'publication' | 'theme';

/** Width of publication figures in CSS px (7.5 in at 96 px/in: a two-column figure), whatever the panel's width. */
export const PUBLICATION_WIDTH = 720;
export const PUBLICATION_DPI = 300;
/** CSS pixels per inch: an SVG's px are 1/96 in. */
const CSS_DPI = 96;

/** "Tiny MNIST then Fashion-MNIST (quick demo)" -> "tiny-mnist-then-fashion-mnist-quick-demo": ASCII, no stray characters. */
export function fileSlug(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[-.]+|[-.]+$/g, '');
}

/** "tiny-mnist-then-fashion-mnist-seed-0-accuracy-matrix.png": experiment, seed, part (the host accepts it: ≤ 120 characters). */
export function exportFileName(experiment: string, part: string, ext: ExportFormat, seed?: number): string {
  const base = fileSlug(experiment).slice(0, 70).replace(/-+$/, '') || 'experiment';
  const seedPart = typeof seed === 'number' && Number.isFinite(seed) ? `-seed-${seed}` : '';
  const tail = `${seedPart}-${fileSlug(part) || 'export'}.${ext}`;
  return `${base.slice(0, 120 - tail.length)}${tail}`;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * R as CSV: one row per finished phase (labelled by what it trained: a task, or "joint (all
 * tasks)"), one column per task, accuracies as fractions, and the random-init baseline b last.
 */
export function accuracyMatrixCsv(r: RunResult): string {
  const labels = taskLabels(r);
  const rowLabels = phaseLabels(r);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '');
  const lines = [['after', ...labels].map(csvField).join(',')];
  r.accuracyMatrix.forEach((row, i) => {
    if (!Array.isArray(row)) return;
    lines.push([csvField(rowLabels[i] ?? `phase ${i}`), ...labels.map((_, j) => num(row[j]))].join(','));
  });
  if (r.randomInitAccuracy.length) lines.push(['random_init', ...labels.map((_, j) => num(r.randomInitAccuracy[j]))].join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function resultJson(r: RunResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

export interface FigureText {
  title: string;
  /** What the run was: "Naive · domain-IL · seed 0 · MNIST then Fashion-MNIST". */
  subtitle?: string;
}

/** Words in lines no wider than `width` (estimated; bold text about 5% wider), breaking only between words. */
export function wrapLines(text: string, width: number, fontSize: number, bold = false): string[] {
  const w = (s: string) => textWidth(s, fontSize) * (bold ? 1.05 : 1);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (line && w(next) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The chart under a title (and a subtitle), as one SVG: the chart's content moves into a group
 * below the title band, whose lines wrap to the chart's width; the size grows by the band. The
 * chart itself is not touched.
 */
export function frameFigure(svg: SVGSVGElement, text: FigureText, p: Palette): SVGSVGElement {
  const doc = svg.ownerDocument;
  const NS = 'http://www.w3.org/2000/svg';
  const w = Number(svg.getAttribute('width')) || 800;
  const h = Number(svg.getAttribute('height')) || 400;
  const titleSize = Math.round(p.fontSize * 1.25);
  const subSize = Math.max(10, p.fontSize - 1);
  const width = Math.max(w, 240);
  const titleLines = wrapLines(text.title, width - 16, titleSize, true);
  const subLines = text.subtitle ? wrapLines(text.subtitle, width - 16, subSize) : [];
  const titleStep = Math.round(titleSize * 1.25);
  const subStep = Math.round(subSize * 1.4);
  const band = Math.round(titleSize * 0.35 + titleLines.length * titleStep + subLines.length * subStep + 10);
  const out = doc.createElementNS(NS, 'svg') as SVGSVGElement;
  for (const [k, v] of Object.entries({ width, height: h + band, viewBox: `0 0 ${width} ${h + band}`, 'font-family': p.fontFamily, 'font-size': p.fontSize, fill: p.foreground })) out.setAttribute(k, String(v));
  const block = (cls: string, lines: string[], size: number, step: number, top: number, attrs: Record<string, string | number>) => {
    const t = doc.createElementNS(NS, 'text');
    for (const [k, v] of Object.entries({ 'font-size': size, class: cls, ...attrs })) t.setAttribute(k, String(v));
    lines.forEach((line, i) => {
      const span = doc.createElementNS(NS, 'tspan');
      span.setAttribute('x', '8');
      span.setAttribute('y', String(top + i * step));
      span.textContent = line;
      t.append(span);
    });
    out.append(t);
  };
  const titleTop = Math.round(titleSize * 1.2);
  block('figure-title', titleLines, titleSize, titleStep, titleTop, { 'font-weight': 700, fill: p.foreground });
  if (subLines.length) block('figure-subtitle', subLines, subSize, subStep, titleTop + (titleLines.length - 1) * titleStep + Math.round(subSize * 1.6), { fill: p.muted });
  const g = doc.createElementNS(NS, 'g');
  g.setAttribute('transform', `translate(0,${band})`);
  for (const attr of ['font-family', 'font-size', 'fill']) {
    const v = svg.getAttribute(attr);
    if (v) g.setAttribute(attr, v);
  }
  g.append(...[...svg.cloneNode(true).childNodes]);
  out.append(g);
  return out;
}

/** Serialises a chart SVG as a standalone file, on the palette's background so it reads anywhere. */
export function serializeSvg(svg: SVGSVGElement, p: Palette): string {
  const doc = svg.ownerDocument;
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const NS = 'http://www.w3.org/2000/svg';
  const bg = doc.createElementNS(NS, 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', p.background);
  clone.insertBefore(bg, clone.firstChild);
  clone.removeAttribute('class');
  clone.removeAttribute('data-testid');
  if (!clone.getAttribute('font-family')) clone.setAttribute('font-family', p.fontFamily);
  const XS = doc.defaultView?.XMLSerializer ?? XMLSerializer;
  const text = new XS().serializeToString(clone);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${text}\n`;
}

/** Base64 of a byte array, in chunks (String.fromCharCode has an argument limit). */
export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// ---- PNG resolution: a pHYs chunk says how many pixels make an inch (canvas writes none) ----

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The chunks of a PNG (type and data), in order; throws on anything that is not a PNG. */
export function pngChunks(png: Uint8Array): { type: string; data: Uint8Array; offset: number }[] {
  if (!PNG_SIGNATURE.every((b, i) => png[i] === b)) throw new Error('not a PNG');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array; offset: number }[] = [];
  for (let at = 8; at + 12 <= png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    out.push({ type, data: png.subarray(at + 8, at + 8 + length), offset: at });
    at += 12 + length;
    if (type === 'IEND') break;
  }
  return out;
}

/** The PNG with its resolution set to `dpi` (a pHYs chunk right after IHDR, replacing any other). */
export function withPngResolution(png: Uint8Array, dpi: number): Uint8Array {
  const chunks = pngChunks(png);
  const ppm = Math.round(dpi / 0.0254);
  const chunk = new Uint8Array(21);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, 9);
  chunk.set([0x70, 0x48, 0x59, 0x73], 4); // "pHYs"
  view.setUint32(8, ppm);
  view.setUint32(12, ppm);
  chunk[16] = 1; // unit: metre
  view.setUint32(17, crc32(chunk.subarray(4, 17)));
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  for (const c of chunks) {
    if (c.type === 'pHYs') continue;
    parts.push(png.subarray(c.offset, c.offset + 12 + c.data.length));
    if (c.type === 'IHDR') parts.push(chunk);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Dots per inch a PNG declares (null without a pHYs chunk in metres). */
export function pngResolution(png: Uint8Array): number | null {
  const phys = pngChunks(png).find((c) => c.type === 'pHYs');
  if (!phys || phys.data[8] !== 1) return null;
  const ppm = new DataView(phys.data.buffer, phys.data.byteOffset, 9).getUint32(0);
  return Math.round(ppm * 0.0254);
}

/**
 * Rasterises an SVG (already self-contained: concrete colours, no external refs) through an <img>
 * with a data: URL (allowed by the panel's img-src) onto a canvas; returns PNG base64.
 */
export function svgToPngBase64(doc: Document, svgText: string, width: number, height: number, scale = 2): Promise<string> {
  return new Promise((resolve, reject) => {
    const img = doc.createElement('img');
    img.addEventListener('load', () => {
      try {
        const canvas = doc.createElement('canvas');
        canvas.width = Math.round(width * scale);
        canvas.height = Math.round(height * scale);
        const ctx = canvas.getContext('2d');
        if (!ctx) throw new Error('no 2D canvas context');
        ctx.scale(scale, scale);
        ctx.drawImage(img, 0, 0, width, height);
        resolve(canvas.toDataURL('image/png').replace(/^data:image\/png;base64,/, ''));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    img.addEventListener('error', () => reject(new Error('the chart could not be rasterised')));
    img.src = `data:image/svg+xml;base64,${bytesToBase64(new TextEncoder().encode(svgText))}`;
  });
}

/** A chart drawn for export: as shown (undefined), or redrawn with this palette and width. */
export type ChartBuilder = (style: { palette: Palette; width: number } | undefined) => SVGSVGElement | null;

export interface ChartExport {
  /** File name part: "accuracy-matrix", "curves", "landscape-loss". */
  part: string;
  /** The figure's title: "Accuracy matrix R". */
  title: string;
  build: ChartBuilder;
}

export interface Exporter {
  chart(chart: ChartExport, format: 'svg' | 'png'): Promise<void>;
  csv(): void;
  json(): void;
}

/** "EWC λ=1000 · class-IL · Split-MNIST · seed 0 · <name>": the subtitle of every exported figure. */
export function figureSubtitle(r: RunResult): string {
  return `${experimentName(r)} · ${runSetupTitle(r)} · seed ${r.experiment?.seed ?? '—'}`;
}

/** The figure as exported: the chart in the style's palette, framed with its title; its pixel scale for PNG. */
export function exportFigure(chart: ChartExport, r: RunResult, style: ExportStyle, themePalette: Palette): { svg: SVGSVGElement; palette: Palette; scale: number; dpi: number } | null {
  return frameExport(chart, figureSubtitle(r), style, themePalette);
}

/** Any chart framed for export under its title and `subtitle` (what the figure is of). */
export function frameExport(chart: ChartExport, subtitle: string, style: ExportStyle, themePalette: Palette): { svg: SVGSVGElement; palette: Palette; scale: number; dpi: number } | null {
  const palette = style === 'publication' ? publicationPalette() : themePalette;
  const drawn = chart.build(style === 'publication' ? { palette, width: PUBLICATION_WIDTH } : undefined);
  if (!drawn) return null;
  const svg = frameFigure(drawn, { title: chart.title, subtitle }, palette);
  // Publication PNGs: 300 dpi at the figure's size in inches; theme PNGs: twice the screen's pixels.
  return style === 'publication' ? { svg, palette, scale: PUBLICATION_DPI / CSS_DPI, dpi: PUBLICATION_DPI } : { svg, palette, scale: 2, dpi: 2 * CSS_DPI };
}

/** What exported files are of: a run (name, seed) or a comparison (its title). */
export interface ExportSubject {
  /** File names start with it. */
  name: string;
  /** Under every figure's title. */
  subtitle: string;
  seed?: number;
}

export interface FigureExporter {
  chart(chart: ChartExport, format: 'svg' | 'png'): Promise<void>;
  /** A text export (a table as CSV, data as JSON) named after the subject. */
  text(part: string, format: 'csv' | 'json', content: string): void;
}

/** Builds export messages for whatever `subject` says is shown; `post` sends them (host message or download). */
export function createFigureExporter(doc: Document, subject: () => ExportSubject | null, getPalette: () => Palette, post: (m: FromWebviewMessage) => void, getStyle: () => ExportStyle = () => 'publication'): FigureExporter {
  const name = (s: ExportSubject, part: string, ext: ExportFormat) => exportFileName(s.name, part, ext, s.seed);
  return {
    async chart(chart, format) {
      const s = subject();
      if (!s) return;
      const style = getStyle();
      const figure = frameExport(chart, s.subtitle, style, getPalette());
      if (!figure) return;
      const text = serializeSvg(figure.svg, figure.palette);
      const part = style === 'publication' ? chart.part : `${chart.part}-theme`;
      if (format === 'svg') {
        post({ type: 'export', format: 'svg', name: name(s, part, 'svg'), content: text });
        return;
      }
      const w = Number(figure.svg.getAttribute('width')) || 800;
      const h = Number(figure.svg.getAttribute('height')) || 400;
      const png = await svgToPngBase64(doc, text, w, h, figure.scale);
      const content = bytesToBase64(withPngResolution(base64ToBytes(png), figure.dpi));
      post({ type: 'export', format: 'png', name: name(s, part, 'png'), content });
    },
    text(part, format, content) {
      const s = subject();
      if (s) post({ type: 'export', format, name: name(s, part, format), content });
    },
  };
}

/** Builds export messages for one result; `post` sends them (host message or download). */
export function createExporter(doc: Document, getResult: () => RunResult | null, getPalette: () => Palette, post: (m: FromWebviewMessage) => void, getStyle: () => ExportStyle = () => 'publication'): Exporter {
  const subject = (): ExportSubject | null => {
    const r = getResult();
    return r ? { name: experimentName(r), subtitle: figureSubtitle(r), seed: r.experiment?.seed } : null;
  };
  const figures = createFigureExporter(doc, subject, getPalette, post, getStyle);
  return {
    chart: (chart, format) => figures.chart(chart, format),
    csv() {
      const r = getResult();
      if (r) figures.text('accuracy-matrix', 'csv', accuracyMatrixCsv(r));
    },
    json() {
      const r = getResult();
      if (r) figures.text('result', 'json', resultJson(r));
    },
  };
}

const MIME: Record<ExportFormat, string> = { svg: 'image/svg+xml', png: 'image/png', csv: 'text/csv', json: 'application/json' };

/** Report mode: saves an export through a temporary <a download> link to a blob. */
export function downloadExport(doc: Document, m: Extract<FromWebviewMessage, { type: 'export' }>): void {
  const view = doc.defaultView!;
  const data = m.format === 'png' ? base64ToBytes(m.content) : m.content;
  const blob = new view.Blob([data as BlobPart], { type: MIME[m.format] });
  const url = view.URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = m.name;
  a.rel = 'noopener';
  doc.body.append(a);
  a.click();
  a.remove();
  view.setTimeout(() => view.URL.revokeObjectURL(url), 10_000);
}

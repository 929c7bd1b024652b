// Exports: charts as SVG/PNG, R as CSV, the whole result as JSON. The content goes to the host as an
// 'export' message (the report's host turns it into a download).
import type { ExportFormat, FromWebviewMessage } from '../protocol/webview';
import type { RunResult } from '../protocol/result';
import { experimentName, phaseLabels, taskLabels } from '../protocol/format';
import type { Palette } from './theme';

/** A file name the host accepts (letters, digits, _ . - and spaces; at most 120 characters). */
export function exportFileName(experiment: string, part: string, ext: ExportFormat): string {
  const clean = (s: string) =>
    s
      .normalize('NFKD')
      .replace(/[^\w.\- ]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^[-. ]+|[-. ]+$/g, '');
  const base = clean(experiment).slice(0, 80) || 'experiment';
  return `${base}-${clean(part) || 'export'}.${ext}`.slice(0, 120);
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

/** Serialises a chart SVG as a standalone file, on the panel's background so it reads anywhere. */
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

export interface Exporter {
  chart(svg: SVGSVGElement | null, part: string, format: 'svg' | 'png'): Promise<void>;
  csv(): void;
  json(): void;
}

/** Builds export messages for one result; `post` sends them (host message or download). */
export function createExporter(doc: Document, getResult: () => RunResult | null, getPalette: () => Palette, post: (m: FromWebviewMessage) => void): Exporter {
  const name = (part: string, ext: ExportFormat) => exportFileName(experimentName(getResult()!), part, ext);
  return {
    async chart(svg, part, format) {
      const r = getResult();
      if (!svg || !r) return;
      const text = serializeSvg(svg, getPalette());
      if (format === 'svg') {
        post({ type: 'export', format: 'svg', name: name(part, 'svg'), content: text });
        return;
      }
      const w = Number(svg.getAttribute('width')) || 800;
      const h = Number(svg.getAttribute('height')) || 400;
      const content = await svgToPngBase64(doc, text, w, h);
      post({ type: 'export', format: 'png', name: name(part, 'png'), content });
    },
    csv() {
      const r = getResult();
      if (r) post({ type: 'export', format: 'csv', name: name('accuracy-matrix', 'csv'), content: accuracyMatrixCsv(r) });
    },
    json() {
      const r = getResult();
      if (r) post({ type: 'export', format: 'json', name: name('result', 'json'), content: resultJson(r) });
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

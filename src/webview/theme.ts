// Colours for the charts, read from the VS Code theme variables (or the report's fallback palette).
// SVG gets concrete colours (not var() references) so exported SVG/PNG look the same outside VS Code.
// Task colours are Okabe & Ito's colour-blind-safe set, in a light-background and a dark-background
// order (the theme's --vscode-charts-* are shades of one hue in some themes, e.g. Light High Contrast).
import { color as parseColor } from 'd3';

export interface Palette {
  dark: boolean;
  background: string;
  foreground: string;
  muted: string;
  border: string;
  /** Faint lines: grid, bands. */
  grid: string;
  /** The heatmap's high end. */
  accent: string;
  error: string;
  /** One colour per task, cycling. */
  tasks: string[];
  fontFamily: string;
  fontSize: number;
}

/**
 * Okabe & Ito (2008), Color Universal Design: blue, vermillion, bluish green, reddish purple, then
 * grey and orange (orange and sky blue are too pale on white for lines; yellow only on dark).
 */
export const OKABE_ITO_ON_LIGHT: readonly string[] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#666666', '#E69F00'];
/** On dark backgrounds: sky blue, orange, bluish green, reddish purple, yellow, vermillion. */
export const OKABE_ITO_ON_DARK: readonly string[] = ['#56B4E9', '#E69F00', '#009E73', '#CC79A7', '#F0E442', '#D55E00'];

const LIGHT: Palette = {
  dark: false,
  background: '#ffffff',
  foreground: '#3b3b3b',
  muted: '#717171',
  border: '#e5e5e5',
  grid: 'rgba(59, 59, 59, 0.12)',
  accent: '#1a85ff',
  error: '#e51400',
  tasks: [...OKABE_ITO_ON_LIGHT],
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif',
  fontSize: 13,
};

const DARK: Palette = {
  dark: true,
  background: '#1f1f1f',
  foreground: '#cccccc',
  muted: '#9d9d9d',
  border: '#2b2b2b',
  grid: 'rgba(204, 204, 204, 0.12)',
  accent: '#3794ff',
  error: '#f85149',
  tasks: [...OKABE_ITO_ON_DARK],
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif',
  fontSize: 13,
};

/** Font stack declared in publication exports: common sans-serif faces of every platform. */
export const PUBLICATION_FONT_FAMILY = 'Helvetica, Arial, "Liberation Sans", "DejaVu Sans", sans-serif';

/** Exports for papers: white background, black text, the light task colours, a fixed font size. */
export function publicationPalette(): Palette {
  return {
    dark: false,
    background: '#ffffff',
    foreground: '#000000',
    muted: '#404040',
    border: '#bdbdbd',
    grid: 'rgba(0, 0, 0, 0.12)',
    accent: OKABE_ITO_ON_LIGHT[0],
    error: '#c00000',
    tasks: [...OKABE_ITO_ON_LIGHT],
    fontFamily: PUBLICATION_FONT_FAMILY,
    fontSize: 12,
  };
}

/** The palette used when nothing can be read (tests, very old hosts). */
export function fallbackPalette(dark: boolean): Palette {
  return { ...(dark ? DARK : LIGHT), tasks: [...(dark ? DARK : LIGHT).tasks] };
}

function isColor(s: string): boolean {
  return s !== '' && parseColor(s) !== null;
}

/** Relative luminance (WCAG 2) of a CSS colour; transparent parts are ignored. */
export function relativeLuminance(css: string): number {
  const c = parseColor(css)?.rgb();
  if (!c) return 0;
  const lin = (v: number) => {
    const s = Math.min(255, Math.max(0, v)) / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

function isDarkTheme(doc: Document, background: string | null): boolean {
  const cls = doc.body?.classList;
  if (cls?.contains('vscode-dark') || cls?.contains('vscode-high-contrast')) return !cls.contains('vscode-high-contrast-light');
  if (cls?.contains('vscode-light') || cls?.contains('vscode-high-contrast-light')) return false;
  if (background) return relativeLuminance(background) < 0.4;
  return doc.defaultView?.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
}

/** Reads the theme from CSS custom properties on `el` (normally document.body). */
export function readPalette(el: Element): Palette {
  const doc = el.ownerDocument;
  const view = doc.defaultView;
  const style = view?.getComputedStyle ? view.getComputedStyle(el) : null;
  const v = (name: string) => (style ? style.getPropertyValue(name).trim() : '');
  const pick = (names: string[]): string | null => {
    for (const n of names) {
      const s = v(n);
      if (isColor(s)) return s;
    }
    return null;
  };
  const bg = pick(['--vscode-editor-background', '--vscode-sideBar-background']);
  const base = fallbackPalette(isDarkTheme(doc, bg));
  const foreground = pick(['--vscode-editor-foreground', '--vscode-foreground']) ?? base.foreground;
  const fg = parseColor(foreground);
  const grid = fg ? fg.copy({ opacity: 0.13 }).formatRgb() : base.grid;
  const tasks = base.tasks;
  const font = v('--vscode-font-family').replace(/\s+/g, ' ');
  const size = parseFloat(v('--vscode-font-size'));
  return {
    dark: base.dark,
    background: bg ?? base.background,
    foreground,
    muted: pick(['--vscode-descriptionForeground']) ?? base.muted,
    border: pick(['--vscode-panel-border', '--vscode-widget-border', '--vscode-contrastBorder']) ?? base.border,
    grid,
    accent: tasks[0],
    error: pick(['--vscode-errorForeground']) ?? base.error,
    tasks,
    fontFamily: font || base.fontFamily,
    fontSize: Number.isFinite(size) && size > 0 ? size : base.fontSize,
  };
}

export function taskColor(p: Palette, task: number): string {
  if (task < 0) return p.muted;
  return p.tasks[task % p.tasks.length];
}

/**
 * Calls `onChange` when the theme changes: VS Code swaps the body class (vscode-light/-dark/
 * -high-contrast) and the variables on <html>; a report follows prefers-color-scheme.
 */
export function watchTheme(doc: Document, onChange: () => void): () => void {
  const view = doc.defaultView;
  const disposers: (() => void)[] = [];
  if (view && 'MutationObserver' in view) {
    const mo = new view.MutationObserver(() => onChange());
    if (doc.body) mo.observe(doc.body, { attributes: true, attributeFilter: ['class'] });
    mo.observe(doc.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    disposers.push(() => mo.disconnect());
  }
  const mq = view?.matchMedia?.('(prefers-color-scheme: dark)');
  if (mq && typeof mq.addEventListener === 'function') {
    mq.addEventListener('change', onChange);
    disposers.push(() => mq.removeEventListener('change', onChange));
  }
  return () => disposers.forEach((d) => d());
}

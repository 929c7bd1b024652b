// compare.html: the comparison as one self-contained offline page, rendered by the same webview
// bundle as report.html (engine/report.ts) from the Comparison embedded as JSON.
import { join } from 'node:path';
import type { Comparison } from '../../protocol/compare';
import { PLANE_ELEMENT_ID, type PlaneJobOutcome } from '../../protocol/planeMessages';
import { writeFileAtomic } from '../atomicWrite';
import { readWebviewAssets, renderStandaloneHtml } from '../report';

export const COMPARE_REPORT_FILE = 'compare.html';
/** Id of the <script type="application/json"> block holding the Comparison. */
export const COMPARISON_ELEMENT_ID = 'clw-comparison';

export function renderCompareHtml(c: Comparison, assets: { js: string; css: string }, plane?: PlaneJobOutcome): string {
  return renderStandaloneHtml(
    { title: `${c.title} · compare · Continual Learning Workbench`, bodyClass: 'clw-report clw-compare', data: [{ id: COMPARISON_ELEMENT_ID, value: c }, ...(plane ? [{ id: PLANE_ELEMENT_ID, value: plane }] : [])] },
    assets,
  );
}

/** Writes `${dir}/compare.html` (atomically) from the built webview assets; returns its path. */
export function writeCompareReport(c: Comparison, dir: string, assetsDir: string): string {
  const html = renderCompareHtml(c, readWebviewAssets(assetsDir, COMPARE_REPORT_FILE));
  const target = join(dir, COMPARE_REPORT_FILE);
  writeFileAtomic(target, html);
  return target;
}

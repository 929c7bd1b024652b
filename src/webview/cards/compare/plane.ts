// Card: several runs on one plane. The plane through θ_A, θ_B (a reference run's first and last
// optima) and a third point (another run's end weights, e.g. joint training's), as
// `planar_interpolation` draws it: one contour map of each task's loss (the run panel's contour
// and colour code, charts/landscape.ts), every chosen run's projected trajectory and endpoint in
// its own colour, and a table of the endpoints' coordinates with their distance off the plane
// (the projection hides it). Computed by a paths job in the host (Compute, progress, Cancel).
// Test ids: plane-reference, plane-third, plane-run-<k>, plane-bezier, plane-init-only,
// plane-compute, plane-cancel, plane-status, plane-maps (the SVG), plane-map (one per task),
// plane-trajectory, plane-end, plane-marker, plane-table, plane-row.
import * as d3 from 'd3';
import type { MultiRunPlaneResult } from '../../../protocol/landscape';
import type { PlaneComputeMessage } from '../../../protocol/planeMessages';
import { formatCount, formatDuration, formatValue } from '../../../protocol/format';
import { appendRichText, h, setChildren } from '../../dom';
import { fitText } from '../../charts/axes';
import { chartSvg, type ChartOptions } from '../../charts/chart';
import { drawColorbar, drawContourMap, gridGeometry, haloText, landscapeLayout, landscapeScale } from '../../charts/landscape';
import { compareIndexOf, drawnFolders, meanOf, normalisedFolder, placeOnMap, planeMarkers, projectedPolyline, projectionRows, relativeText, runColorMap, sharesText, tableNumber, type PlaneRunInfo } from '../../charts/planeMap';
import type { ChartExport } from '../../exporting';
import type { CompareSubject } from '../../compare/subject';
import { taskColor, type Palette } from '../../theme';
import type { CardContext, CardDefinition } from '../types';
import { cardSection } from '../section';
import { chartExportTools } from './common';
import { planeStoreFor, type PlaneStore } from './planeState';

export interface PlaneMapsData {
  plane: MultiRunPlaneResult;
  runs: readonly PlaneRunInfo[];
  /** Colour index of each run folder (runColorMap). */
  colors: Map<string, number>;
}

const labelOfRun = (folder: string, runs: readonly PlaneRunInfo[], fallback: string) => {
  const i = compareIndexOf(folder, runs);
  return i >= 0 ? runs[i].label : fallback;
};

let instances = 0;

/** One contour map per task of the plane's loss, every run's trajectory and endpoints, θ_A, θ_B and the third point. */
export function planeMapsChart(data: PlaneMapsData, o: ChartOptions): SVGSVGElement {
  const { plane, runs, colors } = data;
  const p = o.palette;
  const small = Math.max(10, p.fontSize - 2);
  const tasks = [...plane.grids].sort((a, b) => a.task - b.task);
  const L = landscapeLayout(o.width, tasks.length, p.fontSize);
  const svg = chartSvg(o, L.width, L.height, `loss of each task on the plane through θ_A, θ_B and ${plane.points[2].label}, with ${plane.runs.length} runs projected onto it`);
  svg.setAttribute('data-testid', 'plane-maps');
  const root = d3.select(svg);
  const scale = landscapeScale(plane, 'loss');
  const instance = ++instances;
  const colorOf = (folder: string) => taskColor(p, colors.get(normalisedFolder(folder)) ?? 0);
  const thirdLabel = labelOfRun(plane.points[2].run, runs, plane.points[2].label);
  // Equal units on both axes: a map is as tall as the plane's β range makes it (up to 1.5 times its
  // width when the third point is far off the line θ_A θ_B), so rows pack by the maps' own heights.
  const maxHeight = Math.round(L.mapSize * 1.5);
  const first = gridGeometry(plane.alphas, plane.betas, { left: 0, top: 0, maxWidth: L.mapSize, maxHeight });
  const pitch = L.titleHeight + first.height + L.axisHeight;
  const gap = 18;
  const columnLeft = (col: number) => L.axisWidth + col * (first.width + gap + L.axisWidth);
  const geoms = tasks.map((_, k) => gridGeometry(plane.alphas, plane.betas, { left: columnLeft(k % L.columns), top: L.titleHeight + Math.floor(k / L.columns) * pitch, maxWidth: L.mapSize, maxHeight }));
  const mapsBottom = L.rows * pitch;
  const mapsRight = columnLeft(L.columns - 1) + first.width;
  const bar = L.colorbar.orientation === 'vertical' ? { orientation: 'vertical' as const, left: mapsRight + gap, top: geoms[0].top, length: geoms[0].height } : { orientation: 'horizontal' as const, left: L.axisWidth, top: mapsBottom + Math.round(p.fontSize * 1.6), length: Math.min(L.mapSize, Math.max(first.width, 120)) };
  const height = bar.orientation === 'vertical' ? Math.max(mapsBottom, bar.top + bar.length + small * 2 + 8) : bar.top + 14 + small * 2 + 8;
  // The maps' own width (narrower than the layout's squares when the plane is tall), the colour bar and its labels beside them.
  const width = Math.min(L.width, bar.orientation === 'vertical' ? bar.left + Math.round(p.fontSize * 8) : Math.max(mapsRight + 8, bar.left + bar.length + 8));
  for (const [k, v] of Object.entries({ width, height, viewBox: `0 0 ${width} ${height}` })) svg.setAttribute(k, String(v));
  tasks.forEach((grid, k) => {
    const geom = geoms[k];
    const box = { left: geom.left, top: geom.top, width: geom.width, height: geom.height };
    const g = root.append('g').attr('class', 'map').attr('data-testid', 'plane-map').attr('data-task', grid.task);
    const name = plane.tasks[grid.task] ?? `task ${grid.task}`;
    g.append('text').attr('x', geom.left).attr('y', geom.top - 10).attr('font-weight', 600).text(fitText(`${name} · loss`, geom.width, p.fontSize));
    const clipId = `clw-plane-clip-${instance}-${k}`;
    drawContourMap(g, p, geom, grid.loss, scale, clipId, L.axisWidth, `β (towards ${thirdLabel})`);

    // Trajectories, clipped to the map (a run usually starts at the random init, off the plotted range), over a dark halo.
    const tg = g.append('g').attr('clip-path', `url(#${clipId})`).attr('fill', 'none').attr('stroke-linejoin', 'round').attr('stroke-linecap', 'round');
    const line = d3
      .line<{ x: number; y: number }>()
      .x((d) => d.x)
      .y((d) => d.y);
    for (const r of plane.runs) {
      const pts = projectedPolyline(r.trajectory, geom.x, geom.y);
      if (pts.length < 2) continue;
      tg.append('path').attr('d', line(pts) ?? '').attr('stroke', '#000000').attr('stroke-opacity', 0.55).attr('stroke-width', 4.5);
      tg.append('path').attr('data-testid', 'plane-trajectory').attr('data-run', r.run).attr('d', line(pts) ?? '').attr('stroke', colorOf(r.run)).attr('stroke-width', 2);
    }
    // Where the trajectories start (the random initialisation, shared by comparable runs): a small white dot.
    for (const r of plane.runs) {
      const start = r.trajectory[0];
      if (!start) continue;
      const placed = placeOnMap({ x: geom.x(start.alpha), y: geom.y(start.beta) }, box);
      if (placed.inside) tg.append('circle').attr('data-testid', 'plane-init').attr('cx', placed.x).attr('cy', placed.y).attr('r', 3).attr('fill', '#ffffff').attr('stroke', '#000000').append('title').text(`${labelOfRun(r.run, runs, r.label)}: the random initialisation (step ${start.step})`);
    }
    // Endpoints: each phase's end a small dot, the run's last end a larger one; outside the map, an arrow on its edge.
    const eg = g.append('g').attr('class', 'plane-ends');
    for (const r of plane.runs) {
      const label = labelOfRun(r.run, runs, r.label);
      r.ends.forEach((e, i) => {
        const last = i === r.ends.length - 1;
        const placed = placeOnMap({ x: geom.x(e.alpha), y: geom.y(e.beta) }, box);
        const title = `${label}, end of phase ${e.phase}: α ${tableNumber(e.alpha)}, β ${tableNumber(e.beta)}, ${tableNumber(e.offPlane)} off the plane (${relativeText(e.offPlaneRelative)} of |θB − θA|)`;
        if (!placed.inside) {
          if (!last) return;
          const deg = (placed.angle * 180) / Math.PI;
          eg.append('path')
            .attr('data-testid', 'plane-end')
            .attr('data-run', r.run)
            .attr('data-outside', 1)
            .attr('transform', `translate(${placed.x},${placed.y}) rotate(${deg})`)
            .attr('d', 'M-9,-5L0,0L-9,5Z')
            .attr('fill', colorOf(r.run))
            .attr('stroke', '#000000')
            .append('title')
            .text(`${title} — outside the plotted range`);
          return;
        }
        eg.append('circle')
          .attr('data-testid', last ? 'plane-end' : 'plane-phase-end')
          .attr('data-run', r.run)
          .attr('data-phase', e.phase)
          .attr('cx', placed.x)
          .attr('cy', placed.y)
          .attr('r', last ? 5 : 3)
          .attr('fill', colorOf(r.run))
          .attr('stroke', '#000000')
          .attr('stroke-width', last ? 1.5 : 1)
          .append('title')
          .text(title);
      });
    }
    // θ_A, θ_B (circles) and the third point (a square), white with a black edge, labelled.
    for (const m of planeMarkers(plane)) {
      const placed = placeOnMap({ x: geom.x(m.alpha), y: geom.y(m.beta) }, box);
      if (!placed.inside) continue;
      const mg = g.append('g').attr('data-testid', 'plane-marker').attr('data-which', m.which);
      if (m.which === 'C') mg.append('rect').attr('x', placed.x - 5).attr('y', placed.y - 5).attr('width', 10).attr('height', 10);
      else mg.append('circle').attr('cx', placed.x).attr('cy', placed.y).attr('r', 5.5);
      mg.selectAll('circle, rect').attr('fill', '#ffffff').attr('stroke', '#000000').attr('stroke-width', 1.5).attr('fill-opacity', 0.85);
      const right = placed.x < geom.left + geom.width - 60;
      haloText(mg, placed.x + (right ? 9 : -9), placed.y - 8, m.which === 'C' ? fitText(thirdLabel, 140, small) : m.label, small, right ? 'start' : 'end');
    }
  });
  drawColorbar(root, p, bar, scale, 'plane-colorbar');
  return svg;
}

/** The coordinates table: each run's phase ends, (α, β), distance off the plane, what it shares with the reference. */
export function planeTable(doc: Document, plane: MultiRunPlaneResult, runs: readonly PlaneRunInfo[], colors: Map<string, number>, p: Palette): HTMLElement {
  const wrap = h(doc, 'div', { class: 'cmp-table-wrap' });
  const table = h(doc, 'table', { class: 'cmp-metrics', 'data-testid': 'plane-table' });
  const head = h(doc, 'tr');
  const cols: [string, string][] = [
    ['run', 'The run (its colour on the maps)'],
    ['phase', 'Whose end weights: the run’s phases in order, (end) its last'],
    ['α', 'Coordinate along θ_B − θ_A, in units of |θ_B − θ_A| (θ_A = 0, θ_B = 1)'],
    ['β', 'Coordinate along the plane’s second axis (towards the third point), same unit'],
    ['off the plane', '|θ − its projection|: how far the weights are from the plane drawn (L2)'],
    ['÷ |θ_B − θ_A|', 'The same distance relative to |θ_B − θ_A|: near 0 means the map shows this point’s loss'],
    ['loss at θ / on plane', 'The tasks’ mean loss evaluated at the run’s weights, and at their projection (what the maps show at its marker): they differ when the point is off the plane'],
    ['shares', 'What the run shares with the reference. θ_A: same initialisation and same first task, ended at the same weights; initialisation only: started from the same weights, its first task ended elsewhere (or it trained other tasks first)'],
  ];
  for (const [text, title] of cols) {
    const th = h(doc, 'th', { class: text === 'run' ? 'label' : 'num', title: title.replace(/θ_([AB])/g, 'θ$1') });
    appendRichText(th, text);
    head.append(th);
  }
  table.append(head);
  for (const row of projectionRows(plane, runs)) {
    const r = plane.runs[row.run];
    const tr = h(doc, 'tr', { 'data-testid': 'plane-row', 'data-run': r.run, 'data-phase': row.phase, 'data-shares': row.shares, 'data-last': row.last ? 1 : 0 });
    const name = h(doc, 'th', { class: 'label' });
    const sw = h(doc, 'span', { class: 'swatch' });
    sw.style.background = taskColor(p, colors.get(normalisedFolder(r.run)) ?? 0);
    name.append(sw, h(doc, 'span', { class: 'name' }, row.label));
    const num = (v: string, value: number, key: string) => h(doc, 'td', { class: 'num', 'data-key': key, 'data-value': value }, v);
    tr.append(
      name,
      h(doc, 'td', { class: 'num' }, `${row.phase}${row.last ? ' (end)' : ''}`),
      num(tableNumber(row.alpha), row.alpha, 'alpha'),
      num(tableNumber(row.beta), row.beta, 'beta'),
      num(tableNumber(row.offPlane), row.offPlane, 'off'),
      num(relativeText(row.offPlaneRelative), row.offPlaneRelative, 'off-relative'),
      lossCell(doc, row, plane.tasks),
      h(doc, 'td', { class: 'num', 'data-key': 'shares', title: sharesText(row.shares).replace('θ_A', 'θA') }, row.last ? (row.shares === 'theta-A' ? 'θA' : 'init only') : ''),
    );
    table.append(tr);
  }
  wrap.append(table);
  return wrap;
}

/** "0.412 / 0.398": the mean loss at the weights and at their projection, each task's in the hover. */
function lossCell(doc: Document, row: ReturnType<typeof projectionRows>[number], tasks: readonly string[]): HTMLElement {
  if (!row.loss) return h(doc, 'td', { class: 'num', 'data-key': 'loss' }, '—');
  const { direct, inPlane } = row.loss;
  const title = tasks.map((t, k) => `${t}: ${tableNumber(direct[k])} at the weights, ${tableNumber(inPlane[k])} on the plane`).join('\n');
  return h(doc, 'td', { class: 'num', 'data-key': 'loss', 'data-direct': meanOf(direct), 'data-in-plane': meanOf(inPlane), title }, `${tableNumber(meanOf(direct))} / ${tableNumber(meanOf(inPlane))}`);
}

/** The runs a comparison offers, with their folders. */
export function planeRuns(subject: CompareSubject): PlaneRunInfo[] {
  return subject.comparison.runs.map((r) => ({ id: r.id, label: r.label, resultFile: r.resultFile, group: r.group }));
}

/** Default third point: a joint-training run, else the first other run. */
function defaultThird(subject: CompareSubject, reference: string | null): string | null {
  const others = subject.comparison.runs.filter((r) => r.id !== reference && !r.excluded);
  return (others.find((r) => /joint/i.test(r.strategy)) ?? others[0])?.id ?? null;
}

/** The request the card's choices make. */
export function planeRequest(store: PlaneStore, subject: CompareSubject): PlaneComputeMessage | null {
  const c = store.choices;
  const reference = c.reference ?? subject.comparison.runs.find((r) => !r.excluded)?.id ?? null;
  if (!reference) return null;
  const third = c.third === undefined ? defaultThird(subject, reference) : c.third;
  const selected = subject.comparison.runs.filter((r) => r.id !== reference && !r.excluded && !c.excluded.has(r.id)).map((r) => r.id);
  return { type: 'planeCompute', reference, third: third === reference ? null : third, runs: selected, to: selected, bezier: c.bezier, allowInitOnly: c.allowInitOnly };
}

export const planeCard: CardDefinition<CompareSubject> = {
  id: 'cmp-plane',
  applies: (s) => s.comparison.runs.filter((r) => !r.excluded).length >= 2,
  create(doc) {
    const store = planeStoreFor(doc);
    const sec = cardSection(doc, 'cmp-plane-card', 'Landscape: several runs on one plane', '', 'cmp-plane');
    const controls = h(doc, 'div', { class: 'cmp-plane-controls' });
    const bar = h(doc, 'div', { class: 'cmp-diff-bar' });
    const pick = (text: string, testid: string, title: string) => {
      const label = h(doc, 'label', { class: 'cmp-pick', title }, `${text} `);
      const select = h(doc, 'select', { 'data-testid': testid, 'aria-label': title });
      label.append(select);
      bar.append(label);
      return select;
    };
    const refSelect = pick('Reference (θA, θB: its first and last optima)', 'plane-reference', 'The reference run: θ_A and θ_B are its first and last tasks’ end weights');
    const thirdSelect = pick('Third point', 'plane-third', 'The plane’s third point: this run’s end weights (e.g. joint training’s)');
    const runsRow = h(doc, 'div', { class: 'cmp-diff-bar', 'data-testid': 'plane-runs' });
    const check = (testid: string, text: string, title: string) => {
      const label = h(doc, 'label', { title });
      const box = h(doc, 'input', { type: 'checkbox', 'data-testid': testid });
      label.append(box, doc.createTextNode(` ${text}`));
      return { label, box: box as HTMLInputElement };
    };
    const bezier = check('plane-bezier', 'Train the Bézier curve θA → θB', 'A quadratic Bézier curve between θ_A and θ_B, its control point trained on both tasks’ data (Garipov et al. 2018): a short training job');
    const initOnly = check('plane-init-only', 'Admit runs that share only the initialisation', 'Runs that ended their first task elsewhere (e.g. replay) do not share θ_A');
    const initHint = h(doc, 'div', { class: 'muted' }, 'Runs that ended task 0 elsewhere (e.g. replay, which replays during it) start from the same initialisation but not from θA: admit them to project them anyway (the table says which runs share θA).');
    const actions = h(doc, 'div', { class: 'cmp-diff-bar' });
    const computeBtn = h(doc, 'vscode-button', { 'data-testid': 'plane-compute', title: 'Compute the plane and the paths (or reopen them when saved beside the reference’s result)' }, 'Compute');
    const cancelBtn = h(doc, 'vscode-button', { secondary: true, 'data-testid': 'plane-cancel', title: 'Stop the job (nothing is saved)' }, 'Cancel');
    actions.append(computeBtn, cancelBtn, bezier.label, initOnly.label);
    controls.append(bar, runsRow, actions, initHint);
    const status = h(doc, 'div', { class: 'progress', 'data-testid': 'plane-status' });
    const holder = h(doc, 'div', { class: 'chart cmp-chart landscape-maps' });
    const legend = h(doc, 'div', { class: 'cmp-legend', 'data-testid': 'plane-legend' });
    const info = h(doc, 'div', { class: 'landscape-info', 'data-testid': 'plane-info' });
    const tableHolder = h(doc, 'div', {});
    sec.body.append(controls, status, info, legend, holder, tableHolder);
    let ctx: CardContext<CompareSubject> | null = null;

    refSelect.addEventListener('change', () => {
      store.choices.reference = refSelect.value;
      if (store.choices.third === refSelect.value) store.choices.third = undefined;
      if (ctx) render(ctx);
    });
    thirdSelect.addEventListener('change', () => {
      store.choices.third = thirdSelect.value === '' ? null : thirdSelect.value;
    });
    bezier.box.addEventListener('change', () => (store.choices.bezier = bezier.box.checked));
    initOnly.box.addEventListener('change', () => (store.choices.allowInitOnly = initOnly.box.checked));
    computeBtn.addEventListener('click', () => {
      if (!ctx || store.running || !store.canCompute) return;
      const m = planeRequest(store, ctx.subject);
      if (m) store.compute(m);
    });
    cancelBtn.addEventListener('click', () => store.running && store.cancel());
    const offProgress = store.onProgress(() => renderStatus());

    function renderStatus() {
      computeBtn.toggleAttribute('disabled', store.running || !store.canCompute);
      cancelBtn.toggleAttribute('disabled', !store.running);
      controls.hidden = !store.canCompute;
      const o = store.outcome;
      const parts: HTMLElement[] = [];
      if (store.running) {
        const pr = store.progress;
        const b = h(doc, 'div', { class: `bar${pr ? '' : ' indeterminate'}`, role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': pr?.total ?? 1, 'aria-valuenow': pr?.done ?? 0 });
        const fill = h(doc, 'div', { class: 'fill' });
        fill.style.width = pr && pr.total > 0 ? `${((100 * pr.done) / pr.total).toFixed(1)}%` : '100%';
        b.append(fill);
        parts.push(b, h(doc, 'div', { class: 'progress-text muted' }, pr ? `${pr.stage}: ${formatCount(pr.done)} / ${formatCount(pr.total)}` : store.logs[store.logs.length - 1] ?? 'starting…'));
      } else if (o && o.status !== 'completed') {
        parts.push(h(doc, 'div', { class: 'notice', 'data-testid': 'plane-error' }, o.status === 'cancelled' ? 'Cancelled: nothing was saved.' : `${o.status === 'refused' ? 'Not started' : 'Failed'}: ${o.error ?? 'see the output channel'}`));
      } else if (o?.status === 'completed') {
        const reopened = o.reopened && o.reopened.paths && (!o.plane || o.reopened.plane);
        parts.push(h(doc, 'div', { class: 'muted' }, `${reopened ? 'Reopened the saved results' : `Computed in ${formatDuration(o.totalMs ?? 0)}`}${o.files?.length ? ` · ${o.files.map((f) => f.split(/[\\/]/).pop()).join(', ')} beside the reference’s result` : ''}`));
      } else if (!store.canCompute) {
        parts.push(h(doc, 'div', { class: 'muted' }, 'Open this comparison in VS Code to compute the plane.'));
      }
      setChildren(status, parts);
    }

    const figure = (): ChartExport | null => {
      const plane = store.outcome?.plane;
      if (!ctx || !plane) return null;
      const runs = planeRuns(ctx.subject);
      const colors = runColorMap(drawnFolders({ plane }), runs);
      const { palette: panel, width: panelWidth } = ctx;
      return { part: 'plane', title: `Loss on the plane through θA, θB and ${plane.points[2].label}, runs projected`, build: (style) => planeMapsChart({ plane, runs, colors }, { width: style?.width ?? panelWidth, palette: style?.palette ?? panel, document: doc }) };
    };
    chartExportTools(doc, sec.tools, 'cmp-plane', 'the plane', figure, () => ctx?.figures ?? null);

    function render(next: CardContext<CompareSubject>) {
      ctx = next;
      const s = next.subject;
      const usable = s.comparison.runs.filter((r) => !r.excluded);
      const req = planeRequest(store, s);
      const reference = req?.reference ?? null;
      refSelect.replaceChildren(...usable.map((r) => h(doc, 'option', { value: r.id }, r.label)));
      refSelect.value = reference ?? '';
      thirdSelect.replaceChildren(h(doc, 'option', { value: '' }, 'none (paths only)'), ...usable.filter((r) => r.id !== reference).map((r) => h(doc, 'option', { value: r.id }, r.label)));
      thirdSelect.value = req?.third ?? '';
      setChildren(runsRow, [
        h(doc, 'span', { class: 'muted' }, 'Project and draw lines to:'),
        ...usable
          .filter((r) => r.id !== reference)
          .map((r) => {
            const k = s.comparison.runs.indexOf(r);
            const c = check(`plane-run-${k}`, r.label, `Project ${r.label}’s trajectory onto the plane and draw the straight line θA → its end weights`);
            c.box.checked = !store.choices.excluded.has(r.id);
            c.box.addEventListener('change', () => (c.box.checked ? store.choices.excluded.delete(r.id) : store.choices.excluded.add(r.id)));
            return c.label;
          }),
      ]);
      bezier.box.checked = store.choices.bezier;
      initOnly.box.checked = store.choices.allowInitOnly;
      sec.setSubtitle('the plane through θ_A, θ_B (the reference’s first and last optima) and a third run’s end weights; every chosen run’s trajectory projected onto it');
      renderStatus();

      const plane = store.outcome?.plane;
      holder.hidden = legend.hidden = info.hidden = tableHolder.hidden = !plane;
      if (!plane) {
        holder.replaceChildren();
        tableHolder.replaceChildren();
        return;
      }
      const runs = planeRuns(s);
      const colors = runColorMap(drawnFolders({ plane }), runs);
      info.replaceChildren();
      appendRichText(
        info,
        [
          `reference ${labelOfRun(plane.reference, runs, plane.reference)}`,
          `third point ${labelOfRun(plane.points[2].run, runs, plane.points[2].label)} at (${tableNumber(plane.third.alpha, 2)}, ${tableNumber(plane.third.beta, 2)})`,
          `|θ_B − θ_A| = ${formatValue(plane.distance)} (the unit of α and β)`,
          `grid ${plane.alphas.length}×${plane.betas.length}`,
          `${formatCount(plane.samples)} samples/task`,
          `computed in ${formatDuration(plane.timeMs)}`,
        ].join(' · '),
      );
      setChildren(
        legend,
        [
          ...plane.runs.map((r) => {
            const item = h(doc, 'span', { class: 'cmp-legend-item', 'data-testid': 'plane-legend-item' });
            const sw = h(doc, 'span', { class: 'swatch' });
            sw.style.borderColor = taskColor(next.palette, colors.get(normalisedFolder(r.run)) ?? 0);
            item.append(sw, doc.createTextNode(`${labelOfRun(r.run, runs, r.label)}${r.shares === 'init' ? ' (shares the init only)' : ''}`));
            return item;
          }),
          h(doc, 'span', { class: 'cmp-legend-item muted' }, '○ θA, θB · □ third point · ● a run’s end (small: an earlier task’s) · ▸ end outside the map · white dot: the initialisation'),
        ],
      );
      holder.replaceChildren(planeMapsChart({ plane, runs, colors }, { width: Math.max(300, next.width - 30), palette: next.palette, document: doc }));
      tableHolder.replaceChildren(planeTable(doc, plane, runs, colors, next.palette));
    }

    return {
      el: sec.el,
      render,
      dispose: () => offProgress(),
    };
  },
};

// Header: name, status, backend, timings, the run card, what the run changed in what the experiment
// asked for, live progress, whether the experiment file changed since the run, and the actions the
// mode allows.
import type { Comparison } from '../protocol/compare';
import type { RunState } from '../protocol/runState';
import type { FromWebviewMessage, PanelMode } from '../protocol/webview';
import {
  SCENARIOS,
  benchmarkName,
  experimentName,
  formatCount,
  formatDuration,
  observeLandscapeProgress,
  progressLine,
  runProgress,
  scenarioName,
  scenarioOf,
  settingChangeText,
  strategyDetails,
  strategyTitle,
  type LandscapeClock,
  type PanelContext,
} from '../protocol/format';
import { h, setChildren } from './dom';
import { createRunCard } from './runCard';

export interface ViewModel {
  state: RunState | null;
  mode: PanelMode;
  canRun: boolean;
  experimentFile?: string;
  /** What the host knows beyond the result: the defaults, the experiment file now. */
  context?: PanelContext;
  /** A comparison of runs (mode 'compare'): the compare layout shows it instead of a run. */
  comparison?: Comparison;
}

export interface HeaderActions {
  post(m: FromWebviewMessage): void;
  /** Run the experiment file as it is now (not the recorded experiment). */
  runFile(): void;
  exportJson(): void;
  /** The clock for the time left (tests pass their own). */
  now?: () => number;
}

export interface Header {
  update(view: ViewModel): void;
}

export interface ProgressView {
  /** 0..1, or null when indeterminate. */
  fraction: number | null;
  text: string;
}

/** The progress line of a running run: the status bar's words and fraction, with the time left over every phase. */
export function progressView(state: RunState, now = Date.now(), clock: LandscapeClock | null = null): ProgressView | null {
  if (state.result.status !== 'running') return null;
  const p = runProgress(state);
  return { fraction: p.indeterminate ? null : p.fraction, text: progressLine(state, now, clock) };
}

/** The notice about the experiment file when it no longer describes this run ('' when it does, or when unknown). */
export function fileNotice(context: PanelContext | undefined, canRun: boolean): string {
  const file = context?.file;
  const rerun = canRun ? ' Rerun repeats this run as recorded; Run File Again runs the file as it is now.' : '';
  switch (file?.state) {
    case 'changed': {
      const shown = file.changes.slice(0, 4).map((c) => settingChangeText(c));
      const more = file.changes.length > shown.length ? ` and ${file.changes.length - shown.length} more` : '';
      return `The experiment file has changed since this run: ${shown.join(', ')}${more}.${rerun}`;
    }
    case 'invalid':
      return `The experiment file has changed since this run and now has a problem: ${file.problem}.${canRun ? ' Rerun still repeats this run as recorded.' : ''}`;
    case 'missing':
      return `The experiment file is no longer there.${canRun ? ' Rerun still repeats this run as recorded.' : ''}`;
    default:
      return '';
  }
}

function backendText(state: RunState): string {
  const env = state.result.environment;
  if (!env) return '';
  const bits = [`${env.backend} backend`, `tfjs ${env.tfjsVersion}`];
  if (env.threads) bits.push(`${env.threads} thread${env.threads === 1 ? '' : 's'}`);
  if (env.simd) bits.push('SIMD');
  return bits.join(' · ');
}

export function createHeader(el: HTMLElement, actions: HeaderActions): Header {
  const doc = el.ownerDocument;
  const header = h(doc, 'header', { class: 'clw-header' });
  const titleRow = h(doc, 'div', { class: 'title-row' });
  const name = h(doc, 'h1', { 'data-testid': 'experiment-name' });
  const status = h(doc, 'vscode-badge', { 'data-testid': 'run-status', class: 'status' });
  const backend = h(doc, 'span', { class: 'backend muted', 'data-testid': 'backend' });
  const spacer = h(doc, 'span', { class: 'spacer' });
  const buttons = h(doc, 'div', { class: 'actions' });
  titleRow.append(name, status, backend, spacer, buttons);
  // What the run did: strategy (with its main hyperparameters), scenario, benchmark.
  const setup = h(doc, 'div', { class: 'setup-row', 'data-testid': 'run-setup' });
  const strategy = h(doc, 'span', { class: 'strategy', 'data-testid': 'strategy' });
  const scenario = h(doc, 'span', { class: 'scenario', 'data-testid': 'scenario' });
  const benchmark = h(doc, 'span', { class: 'benchmark muted', 'data-testid': 'benchmark' });
  const setupSeparators = [doc.createTextNode(' · '), doc.createTextNode(' · ')];

  const cancel = h(doc, 'vscode-button', { 'data-testid': 'cancel', title: 'Stop the run (the result so far is kept)' }, 'Cancel');
  const rerun = h(doc, 'vscode-button', { 'data-testid': 'rerun' }, 'Rerun');
  const runFile = h(doc, 'vscode-button', { 'data-testid': 'run-file', secondary: true }, 'Run File Again');
  const openJson = h(doc, 'vscode-button', { 'data-testid': 'open-json', secondary: true, title: 'Open the result file as JSON text' }, 'Open as JSON');
  const exportJson = h(doc, 'vscode-button', { 'data-testid': 'export-json', secondary: true, title: 'Save the whole result as JSON' }, 'Export JSON');
  let cancelRequested: string | null = null;
  let current: ViewModel | null = null;
  cancel.addEventListener('click', () => {
    if (!current?.state || cancelRequested === current.state.result.runId) return;
    cancelRequested = current.state.result.runId;
    cancel.setAttribute('disabled', '');
    cancel.textContent = 'Cancelling…';
    actions.post({ type: 'cancel' });
  });
  rerun.addEventListener('click', () => actions.post({ type: 'rerun' }));
  runFile.addEventListener('click', () => actions.runFile());
  openJson.addEventListener('click', () => actions.post({ type: 'openAsJson' }));
  exportJson.addEventListener('click', () => actions.exportJson());

  const meta = h(doc, 'div', { class: 'meta-row muted' });
  const fileLink = h(doc, 'a', { href: '#', 'data-testid': 'experiment-link', title: 'Open the experiment file' }, 'experiment file');
  fileLink.addEventListener('click', (e) => {
    e.preventDefault();
    actions.post({ type: 'openExperiment' });
  });
  const fileText = h(doc, 'span', { class: 'file' });
  const times = h(doc, 'span', { class: 'times', 'data-testid': 'timing' });

  const runCard = createRunCard(doc);
  // What the engine changed in what the experiment asked for (RunResult.notes).
  const notes = h(doc, 'div', { class: 'notice run-notes', role: 'status', 'data-testid': 'run-notes' });
  const notesTitle = h(doc, 'div', { class: 'run-notes-title' });
  const notesList = h(doc, 'ul');
  notes.append(notesTitle, notesList);
  let drawnNotes = '';
  const fileChanged = h(doc, 'div', { class: 'notice', role: 'status', 'data-testid': 'file-changed' });
  let clock: LandscapeClock | null = null;
  const now = actions.now ?? (() => Date.now());

  const error = h(doc, 'div', { class: 'error', role: 'alert', 'data-testid': 'run-error' });
  const progress = h(doc, 'div', { class: 'progress', 'data-testid': 'progress' });
  const bar = h(doc, 'div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100 });
  const fill = h(doc, 'div', { class: 'fill' });
  bar.append(fill);
  const progressText = h(doc, 'div', { class: 'progress-text' });
  progress.append(bar, progressText);
  const waiting = h(doc, 'p', { class: 'placeholder' }, 'No run yet. Right-click an experiment file (*.cl.json) and choose “Run Continual Experiment”.');
  el.append(header);

  return {
    update(view) {
      current = view;
      const state = view.state;
      if (!state) {
        setChildren(header, [waiting]);
        return;
      }
      const r = state.result;
      name.textContent = experimentName(r);
      status.textContent = r.status;
      status.className = `status status-${r.status}`;
      const be = backendText(state);
      backend.textContent = be;
      backend.hidden = !be;

      const spec = r.experiment?.strategy;
      strategy.textContent = strategyTitle(spec);
      const details = strategyDetails(spec);
      strategy.title = `strategy ${spec?.name ?? 'naive'}${details ? `: ${details}` : ''}`;
      const sc = scenarioOf(r);
      scenario.textContent = scenarioName(sc);
      scenario.title = SCENARIOS[sc]?.summary ?? '';
      const bm = r.experiment?.benchmark;
      benchmark.textContent = bm ? `${benchmarkName(bm.name)}, ${r.experiment.tasks.length} tasks` : '';
      const setupParts: Node[] = [strategy, setupSeparators[0], scenario];
      if (bm) setupParts.push(setupSeparators[1], benchmark);
      setChildren(setup, setupParts);

      const running = r.status === 'running';
      if (!running || cancelRequested !== r.runId) {
        cancel.removeAttribute('disabled');
        cancel.textContent = 'Cancel';
        if (!running) cancelRequested = null;
      }
      const visible: HTMLElement[] = [];
      const file = r.experimentFile ?? view.experimentFile;
      if (view.mode === 'live' && running) visible.push(cancel);
      if (view.mode !== 'report' && !running && view.canRun) {
        rerun.title = `Run this experiment again exactly as recorded in this result (seed ${r.experiment?.seed ?? '—'}), whatever the file says now`;
        visible.push(rerun);
        if (file && view.context?.file.state !== 'missing') {
          runFile.title = `Run ${file} as it is now`;
          visible.push(runFile);
        }
      }
      if (view.mode === 'saved') visible.push(openJson);
      visible.push(exportJson);
      setChildren(buttons, visible);

      const metaParts: Node[] = [];
      if (file && view.mode !== 'report') {
        fileLink.title = `Open ${file}`;
        metaParts.push(fileLink, doc.createTextNode(' · '));
      } else if (file) {
        fileText.textContent = file;
        metaParts.push(fileText, doc.createTextNode(' · '));
      }
      const started = r.timing?.startedAt ? new Date(r.timing.startedAt) : null;
      const timeBits: string[] = [];
      if (started && !Number.isNaN(started.getTime())) timeBits.push(`started ${started.toLocaleString()}`);
      // While running, elapsed time and time left are on the progress line.
      if (!running && r.timing?.totalMs) {
        timeBits.push(`took ${formatDuration(r.timing.totalMs)}`);
        if (r.timing.trainImagesPerSecond) timeBits.push(`${formatCount(r.timing.trainImagesPerSecond)} img/s training`);
      }
      times.textContent = timeBits.join(' · ');
      metaParts.push(times);
      setChildren(meta, metaParts);

      if (r.status === 'failed') {
        error.textContent = r.error ? `Failed during ${r.error.phase}: ${r.error.message}` : 'Failed.';
      } else if (r.status === 'running' && view.mode !== 'live') {
        error.textContent = `The run was still going when this ${view.mode === 'report' ? 'report' : 'result file'} was written: the results below are partial.`;
      } else if (r.status === 'cancelled') {
        error.textContent = 'Cancelled: the results below cover the tasks that finished.';
      } else error.textContent = '';
      error.className = r.status === 'failed' ? 'error' : 'notice';
      error.setAttribute('data-testid', r.status === 'failed' ? 'run-error' : 'run-notice');
      error.setAttribute('role', r.status === 'failed' ? 'alert' : 'status');

      runCard.update({ result: r, defaults: view.context?.defaults ?? null, resultFile: state.resultFile });
      fileChanged.textContent = view.mode === 'report' ? '' : fileNotice(view.context, view.canRun);
      const runNotes = r.notes ?? [];
      const notesKey = JSON.stringify(runNotes);
      if (notesKey !== drawnNotes) {
        drawnNotes = notesKey;
        notesTitle.textContent = runNotes.length === 1 ? 'The run changed one thing the experiment asked for:' : `The run changed ${runNotes.length} things the experiment asked for:`;
        notesList.replaceChildren(...runNotes.map((n) => h(doc, 'li', { 'data-field': n.field }, n.message)));
      }

      // Only a live panel receives progress; a saved file or report written mid-run is a snapshot.
      const t = now();
      clock = view.mode === 'live' ? observeLandscapeProgress(clock, state, t) : null;
      const pv = view.mode === 'live' ? progressView(state, t, clock) : null;
      if (pv) {
        fill.style.width = pv.fraction === null ? '100%' : `${(pv.fraction * 100).toFixed(1)}%`;
        bar.classList.toggle('indeterminate', pv.fraction === null);
        if (pv.fraction === null) bar.removeAttribute('aria-valuenow');
        else bar.setAttribute('aria-valuenow', (pv.fraction * 100).toFixed(0));
        progressText.textContent = pv.text;
      }
      const children: HTMLElement[] = [titleRow, setup, meta, runCard.el];
      if (runNotes.length) children.push(notes);
      if (fileChanged.textContent) children.push(fileChanged);
      if (error.textContent) children.push(error);
      if (pv) children.push(progress);
      setChildren(header, children);
    },
  };
}

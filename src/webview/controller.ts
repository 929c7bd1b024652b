// Panel side of the protocol: restores the last view from the webview state, applies 'snapshot' and
// 'events' messages with the shared fold, and coalesces renders to one per animation frame.
import { upgradeResult } from '../protocol/result';
import { applyRunEvent, type RunState } from '../protocol/runState';
import type { ToWebviewMessage } from '../protocol/webview';
import { readPanelContextMessage } from '../protocol/format';
import type { ViewModel } from './header';
import { applyLandscapeMessage, type RunLandscapes } from './cards/run/landscapeChooser';

/** The panel's view: the run's, and the landscapes the host keeps beside its result (cards/run/landscape.ts). */
export interface PanelView extends ViewModel {
  landscapes?: RunLandscapes;
}

export interface PersistApi {
  getState(): unknown;
  setState(state: unknown): void;
}

interface Persisted {
  version: 1;
  view: PanelView;
}

export interface ControllerOptions {
  render(view: PanelView): void;
  persist?: PersistApi;
  /** Runs the callback before the next paint (requestAnimationFrame in the browser). */
  schedule(cb: () => void): void;
  /** Delay between two saves of the view into the webview state. */
  persistEveryMs?: number;
  setTimer?: (cb: () => void, ms: number) => unknown;
}

export interface PanelController {
  view(): PanelView;
  handleMessage(data: unknown): void;
  /** Asks for a render on the next frame (several calls, one render). */
  requestRender(): void;
}

function isPersisted(s: unknown): s is Persisted {
  return typeof s === 'object' && s !== null && (s as Persisted).version === 1 && typeof (s as Persisted).view === 'object' && (s as Persisted).view !== null;
}

/** A state saved by an older version (webview state survives updates) reads as the current format. */
const upgraded = (state: RunState | null): RunState | null => (state?.result ? { ...state, result: upgradeResult(state.result) } : state);

export function createPanelController(opts: ControllerOptions): PanelController {
  const saved = opts.persist?.getState();
  let view: PanelView = isPersisted(saved) ? { ...saved.view, state: upgraded(saved.view.state) } : { state: null, mode: 'live', canRun: false };
  let renderQueued = false;
  let persistQueued = false;
  const persistEvery = opts.persistEveryMs ?? 1000;
  const setTimer = opts.setTimer ?? ((cb: () => void, ms: number) => setTimeout(cb, ms));

  const persistNow = () => {
    persistQueued = false;
    opts.persist?.setState({ version: 1, view } satisfies Persisted);
  };
  const persistSoon = () => {
    if (!opts.persist || persistQueued) return;
    persistQueued = true;
    setTimer(persistNow, persistEvery);
  };
  const requestRender = () => {
    if (renderQueued) return;
    renderQueued = true;
    opts.schedule(() => {
      renderQueued = false;
      opts.render(view);
    });
  };

  return {
    view: () => view,
    requestRender,
    handleMessage(data) {
      const msg = data as ToWebviewMessage;
      if (typeof msg !== 'object' || msg === null) return;
      const context = readPanelContextMessage(data);
      const landscapes = context ? null : applyLandscapeMessage(view.landscapes, data);
      if (landscapes) {
        view = { ...view, landscapes };
        persistSoon();
        requestRender();
      } else if (context) {
        view = { ...view, context };
        persistNow();
        requestRender();
      } else if (msg.type === 'comparison' && typeof msg.comparison === 'object' && msg.comparison !== null) {
        // The panel now compares runs: no run state, no run actions.
        view = { state: null, mode: 'compare', canRun: false, comparison: msg.comparison, context: view.context };
        persistNow();
        requestRender();
      } else if (msg.type === 'snapshot') {
        // The context belongs to the panel, not the run: it stays until the host sends a new one.
        view = { state: upgraded(msg.state), mode: msg.mode, canRun: msg.canRun, experimentFile: msg.experimentFile, context: view.context, landscapes: view.landscapes };
        persistNow();
        requestRender();
      } else if (msg.type === 'events' && Array.isArray(msg.events)) {
        let state = view.state;
        for (const e of msg.events) {
          try {
            state = applyRunEvent(state, e);
          } catch (err) {
            // An event before its run's snapshot: the host sends a fresh snapshot after 'ready'.
            console.warn('run event ignored:', err instanceof Error ? err.message : err);
          }
        }
        view = { ...view, state };
        persistSoon();
        requestRender();
      }
    },
  };
}

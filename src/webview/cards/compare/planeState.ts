// What the compare view's two landscape cards share: the user's choices, the job in flight (its
// progress), and its outcome (the plane and the paths). One per document: the compare view feeds it
// the host's messages (or a static page's embedded outcome), the cards read it and post requests.
import { readPlaneHostMessage, type FromPlaneWebviewMessage, type PlaneComputeMessage, type PlaneJobOutcome, type ToPlaneWebviewMessage } from '../../../protocol/planeMessages';

export interface PlaneChoices {
  /** Run ids (CompareRun.id). */
  reference: string | null;
  /** null: no plane, paths only; undefined: not chosen yet (the card picks a default). */
  third: string | null | undefined;
  /** Runs left out of the projection and the lines (all others are in). */
  excluded: Set<string>;
  bezier: boolean;
  allowInitOnly: boolean;
}

export interface PlaneStore {
  choices: PlaneChoices;
  running: boolean;
  progress: { stage: string; done: number; total: number } | null;
  /** The last lines the job logged (the newest last). */
  logs: string[];
  outcome: PlaneJobOutcome | null;
  /** False in a static page (no host to compute). */
  canCompute: boolean;
  post(m: FromPlaneWebviewMessage): void;
  compute(m: PlaneComputeMessage): void;
  cancel(): void;
  handle(m: ToPlaneWebviewMessage): void;
  /** Progress or a log line: the plane card updates its status line. */
  onProgress(listener: () => void): () => void;
  /** A new outcome (or the job started/stopped): the view re-renders. */
  onChange(listener: () => void): () => void;
}

const MAX_LOG_LINES = 20;

export function createPlaneStore(): PlaneStore {
  const progressListeners = new Set<() => void>();
  const changeListeners = new Set<() => void>();
  const fire = (set: Set<() => void>) => set.forEach((l) => l());
  const store: PlaneStore = {
    choices: { reference: null, third: undefined, excluded: new Set(), bezier: false, allowInitOnly: false },
    running: false,
    progress: null,
    logs: [],
    outcome: null,
    canCompute: false,
    post: () => {},
    compute(m) {
      store.running = true;
      store.progress = null;
      store.logs = [];
      store.post(m);
      fire(changeListeners);
    },
    cancel() {
      store.post({ type: 'planeCancel' });
    },
    handle(m) {
      if (m.type === 'planeProgress') {
        store.running = true;
        store.progress = { stage: m.stage, done: m.done, total: m.total };
        fire(progressListeners);
      } else if (m.type === 'planeLog') {
        store.logs = [...store.logs, m.message].slice(-MAX_LOG_LINES);
        fire(progressListeners);
      } else {
        const { type: _type, ...outcome } = m;
        store.running = false;
        store.progress = null;
        store.outcome = outcome;
        fire(changeListeners);
      }
    },
    onProgress(l) {
      progressListeners.add(l);
      return () => progressListeners.delete(l);
    },
    onChange(l) {
      changeListeners.add(l);
      return () => changeListeners.delete(l);
    },
  };
  return store;
}

const stores = new WeakMap<Document, PlaneStore>();

/** The store of a document (the compare view and its cards find the same one). */
export function planeStoreFor(doc: Document): PlaneStore {
  let s = stores.get(doc);
  if (!s) stores.set(doc, (s = createPlaneStore()));
  return s;
}

const listening = new WeakSet<object>();

/**
 * Feeds the host's plane messages to the window's document's store, once per window and for its
 * lifetime: the host re-sends the last outcome right after the comparison, before the compare view
 * (created on the next frame) exists.
 */
export function listenForPlaneMessages(win: Window): void {
  if (listening.has(win)) return;
  listening.add(win);
  win.addEventListener('message', (e: MessageEvent) => {
    const m = readPlaneHostMessage(e.data);
    if (m) planeStoreFor(win.document).handle(m);
  });
}

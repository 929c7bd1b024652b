// Where the UI's messages go: the extension host (live/saved panels) or, in a standalone report,
// nowhere but downloads.
import type { FromPlaneWebviewMessage } from '../protocol/planeMessages';
import type { FromWebviewMessage } from '../protocol/webview';
import type { readPanelRequest } from '../protocol/format';
import { downloadExport } from './exporting';

/** Requests the host reads with readPanelRequest (protocol/format.ts), beside FromWebviewMessage. */
export type PanelRequest = NonNullable<ReturnType<typeof readPanelRequest>>;

export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare global {
  interface Window {
    acquireVsCodeApi?: () => VsCodeApi;
    litNonce?: string;
  }
}

/** Everything a view posts: the run panel's messages and requests, the compare view's plane jobs. */
export type PostedMessage = FromWebviewMessage | PanelRequest | FromPlaneWebviewMessage;
export type Post = (m: PostedMessage) => void;

export function vscodePost(api: VsCodeApi): Post {
  return (m) => api.postMessage(m);
}

/** Report mode: exports become downloads; run actions do not exist. */
export function reportPost(doc: Document): Post {
  return (m) => {
    if (m.type === 'export') downloadExport(doc, m);
  };
}

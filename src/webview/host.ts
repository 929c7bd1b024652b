// Where the UI's messages go: the extension host (live/saved panels) or, in a standalone report,
// nowhere but downloads.
import type { FromWebviewMessage } from '../protocol/webview';
import { downloadExport } from './exporting';

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

export type Post = (m: FromWebviewMessage) => void;

export function vscodePost(api: VsCodeApi): Post {
  return (m) => api.postMessage(m);
}

/** Report mode: exports become downloads; run actions do not exist. */
export function reportPost(doc: Document): Post {
  return (m) => {
    if (m.type === 'export') downloadExport(doc, m);
  };
}

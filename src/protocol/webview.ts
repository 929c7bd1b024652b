// Messages between the extension host and the workbench webview. The webview sends 'ready'; the
// host answers with a full snapshot, then batches of run events (throttled).
import type { RunEvent } from './events';
import type { RunState } from './runState';

export type PanelMode = 'live' | 'saved' | 'report';

export type ToWebviewMessage =
  | { type: 'snapshot'; state: RunState | null; mode: PanelMode; canRun: boolean; experimentFile?: string }
  | { type: 'events'; events: RunEvent[] };

export type ExportFormat = 'svg' | 'png' | 'csv' | 'json';

export type FromWebviewMessage =
  | { type: 'ready' }
  | { type: 'cancel' }
  | { type: 'rerun' }
  | { type: 'openExperiment' }
  | { type: 'openAsJson' }
  /** content: UTF-8 text for svg/csv/json, base64 (no data: prefix) for png. name: suggested file name. */
  | { type: 'export'; format: ExportFormat; name: string; content: string };

const EXPORT_FORMATS: readonly string[] = ['svg', 'png', 'csv', 'json'];
const MAX_EXPORT_BYTES = 64 * 1024 * 1024;

/** Validates a message received from the webview; anything else is dropped by the host. */
export function parseFromWebviewMessage(m: unknown): FromWebviewMessage | null {
  if (typeof m !== 'object' || m === null) return null;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'ready':
    case 'cancel':
    case 'rerun':
    case 'openExperiment':
    case 'openAsJson':
      return { type: o.type };
    case 'export':
      if (typeof o.format !== 'string' || !EXPORT_FORMATS.includes(o.format)) return null;
      if (typeof o.name !== 'string' || !/^[\w.\- ]{1,120}$/.test(o.name)) return null;
      if (typeof o.content !== 'string' || o.content.length > MAX_EXPORT_BYTES) return null;
      return { type: 'export', format: o.format as ExportFormat, name: o.name, content: o.content };
    default:
      return null;
  }
}

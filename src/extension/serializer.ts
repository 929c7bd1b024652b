// Restores workbench panels after a window reload. Training processes do not survive a reload, so
// a restored panel shows the saved result of its run: the webview's persisted state names the
// result file (the host puts it in every snapshot); when the webview kept no state, the panel's
// title is looked up in what the host remembered when it opened the panel.
import * as vscode from 'vscode';
import { WorkbenchPanel, WORKBENCH_VIEW_TYPE, type PanelDeps } from './panel';

const MEMORY_KEY = 'continualWorkbench.panelResults';
const MEMORY_SIZE = 50;

interface RememberedPanel {
  title: string;
  resultFile: string;
}

/** Which result file each recently opened panel showed, per workspace, newest first. */
export class PanelResultMemory {
  /** Entries handed out during this restore, so two panels with one title get different runs. */
  private readonly recalled = new Set<string>();

  constructor(private readonly memento: vscode.Memento) {}

  remember(title: string, resultFile: string): void {
    const entries = this.entries().filter((e) => e.resultFile !== resultFile);
    entries.unshift({ title, resultFile });
    void this.memento.update(MEMORY_KEY, entries.slice(0, MEMORY_SIZE));
  }

  recall(title: string): string | undefined {
    const hit = this.entries().find((e) => e.title === title && !this.recalled.has(e.resultFile));
    if (hit) this.recalled.add(hit.resultFile);
    return hit?.resultFile;
  }

  private entries(): RememberedPanel[] {
    return this.memento.get<RememberedPanel[]>(MEMORY_KEY, []);
  }
}

/** The result file in what the webview persisted: {view: {state: RunState}} (src/webview/controller.ts). */
export function resultFileFromWebviewState(saved: unknown): string | undefined {
  const o = saved as { resultFile?: unknown; view?: { state?: { resultFile?: unknown } | null } | null } | null | undefined;
  if (typeof o !== 'object' || o === null) return undefined;
  if (typeof o.resultFile === 'string') return o.resultFile;
  const file = o.view?.state?.resultFile;
  return typeof file === 'string' ? file : undefined;
}

export function registerWorkbenchSerializer(deps: PanelDeps, memory: PanelResultMemory): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(WORKBENCH_VIEW_TYPE, {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
      const resultFile = resultFileFromWebviewState(state) ?? memory.recall(panel.title);
      await WorkbenchPanel.revive(deps, panel, resultFile);
    },
  });
}

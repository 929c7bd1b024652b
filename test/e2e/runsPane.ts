// The Runs view in the Explorer of the e2e Workbench: locators for its pane and rows, its rows read
// in one go, waiting for a row, a row's context menu, and pictures of the side bar.
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { ARTIFACTS_DIR, sleep, waitFor, type Workbench } from './harness';

/** The Explorer's "Runs" pane. */
export function runsPane(wb: Workbench): Locator {
  return wb.page.locator('.pane').filter({ has: wb.page.locator('.pane-header h3.title', { hasText: /^\s*Runs\s*$/i }) }).first();
}

export function runRows(wb: Workbench): Locator {
  return runsPane(wb).locator('.monaco-list-row');
}

/** The row whose text (label + description) matches every pattern. */
export function runRow(wb: Workbench, ...patterns: (string | RegExp)[]): Locator {
  let rows = runRows(wb);
  for (const p of patterns) rows = rows.filter({ hasText: p });
  return rows.first();
}

/** Shows the Explorer with the Runs pane expanded. */
export async function showRunsPane(wb: Workbench): Promise<Locator> {
  const pane = runsPane(wb);
  if (!(await pane.isVisible().catch(() => false))) await wb.runCommandFromPalette('View: Show Explorer').catch(() => undefined);
  await pane.waitFor({ state: 'visible', timeout: 60_000 });
  const header = pane.locator('.pane-header').first();
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  await waitFor(async () => (await header.getAttribute('aria-expanded')) !== 'false', { timeout: 10_000, message: 'the Runs pane to expand' });
  return pane;
}

export interface RowState {
  text: string;
  /** The codicon of the row's icon ("pass", "sync", …). */
  icon: string;
  /** aria-level: "1" for top-level rows, "2" for a sweep's runs. */
  level: string;
  selected: boolean;
}

/** Every row's state, read in one go (a row can change between two reads while a run streams). */
export async function rowStates(wb: Workbench): Promise<RowState[]> {
  return runRows(wb).evaluateAll((els) =>
    els.map((el) => {
      const icon = el.querySelector('.custom-view-tree-node-item-icon');
      const m = /codicon-(?!modifier)([\w-]+)/.exec(icon?.getAttribute('class') ?? '');
      return { text: (el.textContent ?? '').replace(/\s+/g, ' ').trim(), icon: m ? m[1] : '', level: el.getAttribute('aria-level') ?? '', selected: el.getAttribute('aria-selected') === 'true' };
    }),
  );
}

const matches = (text: string, patterns: (string | RegExp)[]) => patterns.every((p) => (typeof p === 'string' ? text.includes(p) : p.test(text)));

/** Wait for a row whose text matches every pattern; returns its state as it was then. */
export async function waitForRow(wb: Workbench, patterns: (string | RegExp)[], timeout: number, what: string): Promise<RowState> {
  let last: RowState[] = [];
  return waitFor(
    async () => {
      last = await rowStates(wb);
      return last.find((r) => matches(r.text, patterns));
    },
    { timeout, interval: 250, message: what },
  ).catch(async (e: Error) => {
    const shot = await wb.screenshot(`runs-view-timeout-${what}`).catch(() => '');
    throw new Error(`${e.message}; rows: ${JSON.stringify(last)}; screenshot ${shot}`);
  });
}

/** Right-click a row of the Runs view and click a menu item (re-opening the menu if the click was lost). */
export async function rowAction(wb: Workbench, row: Locator, item: string): Promise<void> {
  const menu = wb.page.locator('.context-view .monaco-menu').first();
  for (let attempt = 0; attempt < 4; attempt++) {
    await row.click({ button: 'right' });
    await menu.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => undefined);
    const entry = wb.page.getByRole('menuitem', { name: item, exact: true }).first();
    if (await entry.isVisible().catch(() => false)) {
      await entry.hover();
      await sleep(200);
      // A click that landed has run the command (which may open a modal dialog): never retry it,
      // or the Escape below would dismiss what the command opened.
      if (await entry.click({ timeout: 5_000 }).then(() => true, () => false)) {
        await menu.waitFor({ state: 'hidden', timeout: 3_000 }).catch(() => undefined);
        return;
      }
    }
    const items = await wb.page.getByRole('menuitem').allInnerTexts().catch(() => []);
    await wb.page.keyboard.press('Escape');
    if (attempt === 3) throw new Error(`menu item "${item}" not found; the menu had ${JSON.stringify(items.map((s) => s.trim()).filter(Boolean))}`);
    await sleep(500);
  }
}

/** Drags the side bar wider (the descriptions are long); returns its width. */
export async function widenSideBar(wb: Workbench, width: number): Promise<number> {
  const bar = wb.page.locator('.part.sidebar').first();
  const box = await bar.boundingBox();
  if (!box || box.width >= width) return box?.width ?? 0;
  const y = box.y + box.height / 2;
  await wb.page.mouse.move(box.x + box.width + 1, y);
  await wb.page.mouse.down();
  await wb.page.mouse.move(box.x + width, y, { steps: 12 });
  await wb.page.mouse.up();
  await sleep(300);
  return (await bar.boundingBox())?.width ?? 0;
}

/** A screenshot of the side bar (the Explorer with the Runs view) as <name>.png, and of the window as <name>-window.png. */
export async function screenshotExplorer(wb: Workbench, name: string): Promise<string> {
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await wb.page.mouse.move(1500, 900); // no hover, no tooltip over the view
  await sleep(800);
  await wb.page.locator('.part.sidebar').first().screenshot({ path });
  await wb.screenshot(`${name}-window`);
  return path;
}

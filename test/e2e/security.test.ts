// End-to-end: the Security part of issue 11 in a real VS Code (code-server) driven through Chromium.
// A folder opened in Restricted Mode cannot start runs (command, Explorer menu, the result panel's
// Rerun / Run File Again, even when requested by a forged webview message); messages the webview's
// code never sends are dropped and logged once per kind; and the two CSP checks the other e2e tests
// assert zero on do catch a real violation that Chromium blocks.
// Needs `.ci/install-e2e.sh` and a build (`node scripts/build.mjs`).
// Run: node --import tsx --test test/e2e/security.test.ts
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, RUNS_REL, Workbench, postAsWebview, runDirs, runsDir, sleep, waitFor, workbenchSuite } from './harness';

const TINY = 'tiny.cl.json';
const RESTRICTED = /cannot run experiments in Restricted Mode/;
const SAVED_RUN = '20250101-000000-sample';

/**
 * Messages the webview's code never sends, as JSON text (parsed in the page, so an own "__proto__"
 * key survives), each with the kind the extension logs it as. Sent twice: each kind logged once.
 */
const MALFORMED: [string, string][] = [
  ['null', 'not-an-object'],
  ['"rerun"', 'not-an-object'],
  ['[{"type":"rerun"}]', 'not-an-object'],
  ['{}', 'missing-type'],
  ['{"type":"deleteWorkspace"}', 'unknown-type'],
  ['{"type":"rerun","__proto__":{"polluted":true}}', 'forbidden-key'],
  ['{"type":"rerun","experiment":{"seed":1}}', 'rerun:unexpected-field'],
  ['{"type":"runFile","file":"/etc/passwd"}', 'runFile:unexpected-field'],
  ['{"type":"export","format":"exe","name":"a.exe","content":""}', 'export:format'],
  ['{"type":"export","format":"svg","name":"../../../.bashrc","content":"<svg/>"}', 'export:name'],
  ['{"type":"export","format":"png","name":"a.png","content":"not base64!"}', 'export:content'],
  ['{"type":"cspViolation","directive":5,"blockedURI":""}', 'cspViolation:field-type'],
];

describe('Restricted Mode and webview messages in VS Code (code-server + Chromium)', () => {
  const { step } = workbenchSuite('security', { theme: 'dark', fixtures: [TINY], trusted: false });

  const toast = (wb: Workbench, text: RegExp) => wb.page.locator('.notifications-toasts .notification-toast').filter({ hasText: text }).first();

  async function clearNotifications(wb: Workbench): Promise<void> {
    await wb.runCommandFromPalette('Notifications: Clear All Notifications');
    await waitFor(async () => (await wb!.page.locator('.notifications-toasts .notification-toast').count()) === 0, { timeout: 10_000, message: 'notifications to clear' });
  }

  /** The Restricted-Mode refusal appears; no run folder and no trainer follow. */
  async function expectRefused(wb: Workbench, how: string, known: string[]): Promise<void> {
    await toast(wb, RESTRICTED).waitFor({ state: 'visible', timeout: 20_000 }).catch((e: Error) => {
      throw new Error(`${how}: no Restricted-Mode message (${e.message.split('\n')[0]})`);
    });
    await sleep(3_000); // time for a run folder or a trainer to appear if the refusal were only a message
    assert.deepEqual(runDirs(wb).filter((n) => !known.includes(n)), [], `${how}: no run folder`);
    assert.doesNotMatch(await wb.outputChannel(), /starting trainer/, `${how}: no trainer started`);
  }

  test('the folder is in Restricted Mode; Run Continual Experiment (Explorer menu, Command Palette) is refused, nothing runs', { timeout: 150_000 }, () =>
    step('run-refused', async (wb) => {
      await waitFor(async () => (await wb.page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).count()) > 0, { timeout: 30_000, message: 'the "Restricted Mode" status bar item' });
      await wb.explorerContextAction(TINY, 'Run Continual Experiment');
      await expectRefused(wb, 'Explorer menu', []);
      await wb.screenshot('restricted-run-refused');
      await clearNotifications(wb);
      await wb.runCommandFromPalette('Continual Workbench: Run Continual Experiment');
      await expectRefused(wb, 'Command Palette', []);
      await clearNotifications(wb);
    }));

  test('a saved result opens without Rerun or Run File Again, and forged rerun/runFile requests are refused', { timeout: 120_000 }, () =>
    step('rerun-refused', async (wb) => {
      const result = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'sample-result.json'), 'utf8')) as { experimentFile: string };
      result.experimentFile = join(wb.workspace, TINY);
      const dir = join(runsDir(wb), SAVED_RUN);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2));
      const known = runDirs(wb);
      await wb.openFromExplorer(`${RUNS_REL}/${SAVED_RUN}/result.json`);
      const frame = wb.webviewFrame();
      await waitFor(async () => ((await frame.locator('[data-testid="run-status"]').first().textContent({ timeout: 2_000 })) ?? '').trim() === 'completed', { timeout: 30_000, message: 'the result editor' });
      await waitFor(async () => (await frame.locator('[data-testid="heatmap-cell"]').count()) === 4, { timeout: 15_000, message: 'the saved accuracy matrix' });
      assert.equal(await frame.locator('[data-testid="rerun"]').count(), 0, 'no Rerun in Restricted Mode');
      assert.equal(await frame.locator('[data-testid="run-file"]').count(), 0, 'no Run File Again in Restricted Mode');
      await wb.screenshot('restricted-result-editor');
      await wb.expectNoCspViolations('in the result editor (Restricted Mode)');

      // What the buttons would send, sent anyway: the extension refuses it itself.
      await postAsWebview(wb.page, [{ type: 'rerun' }]);
      await expectRefused(wb, 'forged Rerun', known);
      await clearNotifications(wb);
      await postAsWebview(wb.page, [{ type: 'runFile' }]);
      await expectRefused(wb, 'forged Run File Again', known);
      await clearNotifications(wb);
    }));

  test(`${MALFORMED.length} malformed webview messages (${new Set(MALFORMED.map(([, k]) => k)).size} kinds), each sent twice, are dropped and logged once per kind`, { timeout: 90_000 }, () =>
    step('malformed', async (wb) => {
      const known = runDirs(wb);
      const texts = MALFORMED.map(([json]) => json);
      await wb.webviewFrame().locator('body').waitFor({ state: 'attached', timeout: 10_000 });
      for (let round = 0; round < 2; round++) await postAsWebview(wb.page, texts, { json: true });
      let log = '';
      await waitFor(
        async () => {
          log = await wb.outputChannel();
          return MALFORMED.every(([, kind]) => log.includes(`(${kind})`));
        },
        { timeout: 20_000, message: 'a log line for each kind of malformed message' },
      ).catch((e: Error) => {
        throw new Error(`${e.message}; missing: ${MALFORMED.filter(([, k]) => !log.includes(`(${k})`)).map(([, k]) => k).join(', ')}\n${log.slice(-3000)}`);
      });
      const dropped = log.split('\n').filter((l) => l.includes('dropped a malformed message from the webview'));
      for (const [, kind] of MALFORMED) assert.equal(dropped.filter((l) => l.includes(`(${kind})`)).length, 1, `kind ${kind} logged once`);
      const kinds = new Set(MALFORMED.map(([, k]) => k));
      assert.equal(dropped.length, kinds.size, 'one line per kind, whatever the count');
      console.log(`malformed webview messages sent end to end: ${2 * MALFORMED.length} (${kinds.size} kinds), logged lines: ${dropped.length}`);
      // None of them did anything: no save dialog (export), no run, no error, and the view still works.
      assert.equal(await wb.page.locator('.quick-input-widget .quick-input-box input').isVisible(), false, 'no save dialog opened');
      assert.equal(await toast(wb, /Continual Workbench|Restricted Mode/).count(), 0, 'no notification');
      assert.deepEqual(runDirs(wb).filter((n) => !known.includes(n)), [], 'no run folder');
      assert.equal(await wb.page.evaluate(() => ({} as Record<string, unknown>).polluted), undefined);
      assert.equal(((await wb.webviewFrame().locator('[data-testid="run-status"]').first().textContent()) ?? '').trim(), 'completed');
    }));

  // Last: it leaves violations behind on purpose.
  test('a real CSP violation in the webview is caught by both checks (so the zero assertions can fail)', { timeout: 60_000 }, () =>
    step('csp-probe', async (wb) => {
      const before = await wb.expectNoCspViolations('before the deliberate violation');
      assert.equal(before.host.length + before.console.length, 0);
      // An inline style attribute and an image from the network: both blocked by the panel's CSP.
      await wb
        .webviewFrame()
        .locator('body')
        .evaluate((body) => {
          body.setAttribute('style', 'outline: 3px solid red');
          const img = body.ownerDocument.createElement('img');
          img.src = 'https://example.invalid/csp-probe.png';
          body.append(img);
        });
      const seen = await waitFor(
        async () => {
          const v = await wb.cspViolations();
          const host = { style: v.host.some((l) => /style-src/.test(l)), img: v.host.some((l) => /img-src.*example\.invalid\/csp-probe\.png/.test(l)) };
          const console = { style: v.console.some((m) => /style/i.test(m.text)), img: v.console.some((m) => /example\.invalid\/csp-probe\.png/.test(m.text)) };
          return host.style && host.img && console.style && console.img ? v : undefined;
        },
        { timeout: 20_000, message: 'the style and image violations reported by the webview (output channel) and in the Chromium console' },
      ).catch(async (e: Error) => {
        const v = await wb.cspViolations();
        throw new Error(`${e.message}\n  host: ${JSON.stringify(v.host)}\n  console: ${JSON.stringify(v.console)}`);
      });
      console.log(`deliberate CSP violations seen: ${seen.host.length} reported by the webview, ${seen.console.length} in the Chromium console`);
      assert.ok(seen.host.every((l) => /CSP violation in "Result: /.test(l)), `each line names the view: ${seen.host.join(' | ')}`);
      await assert.rejects(wb.expectNoCspViolations('after the deliberate violation', 0), /Content-Security-Policy violations after the deliberate violation/);
    }));
});

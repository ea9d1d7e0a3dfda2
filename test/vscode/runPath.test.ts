// The run path walked as a person walks it, in code-server with the packaged extension and Chromium:
// a fresh profile with no SLayer settings at all, a copy of examples/ (with the project's venv one
// folder up, as in a clone after scripts/setup.sh), HOME a throwaway directory holding an ssh config.
// Open demo.slayer, Run Expansion (the phase picker, then nothing else to answer), watch the named
// run in the Runs view, reload the window mid-run (its output channel and the curves come back),
// see the end notification; a plan without weights ends as failed with actions that fix it; the
// plan's host decides where a run goes. Screenshots go to test-artifacts/run-path-*.png.
import * as assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator } from 'playwright-core';
import { launchChromium } from './harness/browser';
import { ARTIFACTS, ensureCodeServer, installVsix, makeProfile, ROOT, startCodeServer, type CodeServer, type EditorProfile } from './harness/codeServer';
import { packageVsix } from './harness/packageVsix';
import { Workbench } from './harness/workbench';
import { waitFor } from '../remote/harness/processes';
import { PROJECT_PYTHON } from '../helpers/python';

/** Steps of the demo's stage in this test (the bundled plan trains 300; a shared CI core is slow). */
const STEPS = 24;

describe('the run path in code-server, as a person walks it', { timeout: 900_000 }, () => {
  const tmp = mkdtempSync('/tmp/slv-rp-');
  let profile: EditorProfile;
  let server: CodeServer;
  let browser: Browser;
  let wb: Workbench;
  let home: string;

  before(async () => {
    ensureCodeServer();
    const { vsix } = packageVsix(join(tmp, 'slayer-studio.vsix'));
    const examples = join(tmp, 'examples');
    cpSync(join(ROOT, 'examples'), examples, { recursive: true });
    // The demo as bundled, with fewer steps; a copy that forgot `weights random` for the refusal.
    const demo = readFileSync(join(examples, 'demo.slayer'), 'utf8');
    assert.match(demo, /^run on localhost weights random$/m, 'the bundled demo says it uses random weights');
    writeFileSync(join(examples, 'demo.slayer'), demo.replace(/^(\s+steps\s+)\d+$/m, `$1${STEPS}`).replace(/checkpoint-every \d+/, 'checkpoint-every 8'));
    writeFileSync(join(examples, 'no-weights.slayer'), demo.replace(/ weights random$/m, ''));
    profile = makeProfile(() => ({}), examples);
    // The project's venv one folder above the workspace, as examples/ sits in a clone after set-up.
    symlinkSync(dirname(dirname(PROJECT_PYTHON)), join(dirname(profile.workspace), '.venv'));
    home = join(profile.dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'config'), 'Host lab-gpu\n  HostName 10.11.12.13\nHost *.internal\n  User me\n');
    installVsix(profile, vsix);
    server = await startCodeServer(profile, { HOME: home });
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultNavigationTimeout(120_000); // a shared, loaded machine serves the workbench slowly
    await page.goto(server.workbenchUrl(profile.workspace));
    wb = new Workbench(page);
    await wb.ready('demo.slayer');
    // The extension's contributions are in (the SLayer activity bar entry) before the first command.
    await wb.page.locator('.activitybar a[aria-label^="SLayer"]').first().waitFor({ timeout: 120_000 });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    profile?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  const toast = (text: string | RegExp): Locator => wb.page.locator('.notification-toast', { hasText: text }).first();
  const runRow = (text: string | RegExp): Locator => wb.page.locator('.monaco-list-row', { hasText: text }).first();
  const shot = async <T>(name: string, p: Promise<T>): Promise<T> => p.catch(async (e: Error) => {
    await wb.screenshot(`run-path-${name}-failed`);
    // The extension host's own log (activation errors) and the server's, for the post-mortem.
    cpSync(join(profile.userDataDir, 'logs'), join(ARTIFACTS, 'run-path-logs'), { recursive: true });
    writeFileSync(join(ARTIFACTS, 'run-path-code-server.log'), server.log());
    throw e;
  });
  /** Opens the Runs view and its localhost node (collapsed while it had no runs). */
  const runsView = async () => {
    await wb.showContainer('SLayer');
    const host = wb.page.locator('.monaco-list-row[aria-expanded="false"]', { hasText: 'localhost' });
    if (await host.count()) await host.first().click();
  };
  /** The Output channels the workbench knows, through "Output: Show Output Channels…". */
  const outputChannels = async (): Promise<string[]> => {
    // A palette that is slow to list commands (a loaded machine, a window just reloaded) is asked again.
    const opened = await wb.command('Output: Show Output Channels', { opensPicker: true }).then(() => true, () => false);
    if (!opened) {
      await wb.page.keyboard.press('Escape');
      return [];
    }
    await wb.page.keyboard.type('SLayer run'); // the list is virtual: filter it to our channels
    const rows = wb.page.locator('.quick-input-list .monaco-list-row');
    await rows.first().waitFor({ timeout: 10_000 });
    const names = await rows.allInnerTexts();
    await wb.page.keyboard.press('Escape');
    return names;
  };

  test('demo.slayer with default settings: Run Expansion asks only for phases, runs as demo-1, survives a reload, ends with a word', async () => {
    await wb.openFile('demo.slayer');
    // A loaded machine can take a while to list the extension's commands in the palette: try again.
    await waitFor(async () => wb.command('SLayer: Run Expansion', { opensPicker: true }).then(() => true, async () => {
      await wb.page.keyboard.press('Escape');
      return false;
    }), 120_000, 'SLayer: Run Expansion in the command palette');
    // The phase picker: importance is ticked (this model has no measurement yet).
    const picker = wb.page.locator('.quick-input-widget');
    await shot('phases', picker.locator('.quick-input-list .monaco-list-row', { hasText: 'not measured for this model yet' }).waitFor({ timeout: 30_000 }));
    assert.equal(await picker.locator('.quick-input-list .monaco-list-row[aria-checked="true"]').count(), 4, 'all four phases ticked for a first run');
    await wb.screenshot('run-path-phases');
    await wb.page.keyboard.press('Enter');

    // Named and coloured in the Runs view, running on localhost with the workspace's venv.
    await runsView();
    await shot('running', waitFor(async () => /running/.test(await runRow('demo-1').innerText().catch(() => '')), 240_000, 'demo-1 to run'));
    // The first run's colour (blue, #1f77b4) is its name's colour in the Runs view.
    // File decorations (the colour) arrive after the row itself: poll for it.
    const colour = () => runRow('demo-1').locator('.label-name').evaluate((el) => getComputedStyle(el).color).catch(() => '');
    await waitFor(async () => (await colour()) === 'rgb(31, 119, 180)', 30_000, 'demo-1 to be drawn in its colour');
    await shot('channel', waitFor(async () => (await outputChannels()).some((n) => /SLayer run: demo-1 \(\w+\)/.test(n)), 120_000, 'demo-1 to have its output channel'));
    await wb.command('SLayer: Show Training Curves');
    await wb.screenshot('run-path-running');

    // A window reload mid-run: the live run's channel and its curves come back.
    const reloaded = wb.page.waitForEvent('framenavigated', { predicate: (f) => f === wb.page.mainFrame(), timeout: 60_000 });
    await wb.command('Developer: Reload Window');
    await reloaded;
    // The window comes back as it was left: the SLayer container in the side bar, demo.slayer open.
    await wb.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await wb.page.locator('.tabs-container .tab', { hasText: 'demo.slayer' }).first().waitFor({ timeout: 60_000 });
    await runsView();
    await shot('after-reload', waitFor(async () => (await outputChannels()).some((n) => /SLayer run: demo-1 \(\w+\)/.test(n)), 180_000, 'the channel of demo-1 after the reload'));
    const frame = await wb.webviewFrame('curves', 60_000);
    await shot('reload-curves', waitFor(async () => frame.evaluate(() => {
      const view = (window as unknown as { slayerView?: { charts: Map<string, { data: { datasets: { data: unknown[] }[] } }> } }).slayerView;
      return (view?.charts.get('loss')?.data.datasets.reduce((n, d) => n + d.data.length, 0) ?? 0) > 0;
    }), 240_000, 'the curves view to tick the live run after the reload'));
    await wb.screenshot('run-path-after-reload');

    // The end: a notification with the result, the final loss and the duration, and what to do next.
    const endText = /demo-1 succeeded in \S+, final loss \d+\.\d{4}/;
    await shot('end', waitFor(async () => /succeeded/.test(await runRow('demo-1').innerText().catch(() => '')), 600_000, 'demo-1 to end'));
    // The toast; or, when the run ended earlier and the info toast already hid itself (VS Code hides
    // them after a few seconds), the same notification in the Notifications center.
    let end = toast(endText);
    // SLAYER_TEST_NOTIFICATION_CENTER=1 takes the Notifications-center path on purpose (to test it).
    const inCenter = process.env.SLAYER_TEST_NOTIFICATION_CENTER === '1' || !(await end.waitFor({ timeout: 15_000 }).then(() => true, () => false));
    if (inCenter) {
      await wb.command('Notifications: Show Notifications');
      end = wb.page.locator('.notifications-center .monaco-list-row', { hasText: endText }).first();
    }
    await shot('end', end.waitFor({ timeout: 30_000 }));
    for (const action of ['Open Curves', 'Open Report']) assert.ok(await end.locator('.monaco-button', { hasText: action }).count(), `the end notification offers ${action}`);
    assert.match(await runRow('demo-1').innerText(), /succeeded .*loss \d+\.\d{4}/);
    await wb.screenshot('run-path-end');
    // An open Notifications center would swallow the next tests' toasts.
    if (inCenter) await wb.command('Notifications: Hide Notifications');

  });

  test('a plan without weights ends as failed, never queued, with actions that fix it', async () => {
    await wb.openFile('no-weights.slayer');
    await wb.command('SLayer: Run Expansion', { opensPicker: true });
    await wb.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first().waitFor({ timeout: 30_000 });
    await wb.page.keyboard.press('Enter');
    const refused = toast(/no-weights-1 failed: the doctor on localhost refused it/);
    await shot('refusal', refused.waitFor({ timeout: 240_000 }));
    assert.match(await refused.innerText(), /no weights/);
    for (const action of ['Use Random Weights for This Run', 'Open Host Settings']) {
      assert.ok(await refused.locator('.monaco-button', { hasText: action }).count(), `the refusal offers ${action}`);
    }
    await runsView();
    const row = runRow('no-weights-1');
    await row.waitFor({ timeout: 15_000 });
    await shot('refusal-row', waitFor(async () => /failed/.test(await row.innerText()), 30_000, 'the row of no-weights-1 to say failed'));
    await new Promise((r) => setTimeout(r, 5000));
    assert.match(await row.innerText(), /failed/, 'still failed after several status polls');
    // The tooltip holds the doctor's report (hover, and hover again if the first one was eaten).
    const tip = wb.page.locator('.monaco-hover', { hasText: 'doctor: cannot run' }).first();
    await shot('refusal-tooltip', waitFor(async () => {
      await wb.page.mouse.move(700, 300);
      await row.locator('.label-name').hover();
      return tip.waitFor({ timeout: 4000 }).then(() => true, () => false);
    }, 40_000, 'the tooltip with the doctor\'s report'));
    await wb.screenshot('run-path-refusal');
  });

  test('the plan\'s host decides: an unknown host is named in the picker and Add Host… offers the ssh config\'s aliases', async () => {
    await wb.openFile('slayer-8b.slayer');
    await wb.command('SLayer: Run Expansion', { opensPicker: true });
    const picker = wb.page.locator('.quick-input-widget');
    await shot('host-pick', picker.locator('.quick-input-list .monaco-list-row', { hasText: 'Add a100-box' }).waitFor({ timeout: 30_000 }));
    assert.match(await picker.locator('input').first().getAttribute('placeholder') ?? '', /run on a100-box/);
    await wb.screenshot('run-path-host-pick');
    await wb.page.keyboard.press('Escape');

    await wb.command('SLayer: Add Host…', { opensPicker: true });
    const alias = picker.locator('.quick-input-list .monaco-list-row', { hasText: 'lab-gpu' });
    await shot('add-host', alias.waitFor({ timeout: 15_000 }));
    assert.equal(await picker.locator('.quick-input-list .monaco-list-row', { hasText: '.internal' }).count(), 0, 'patterns are not offered');
    await alias.click();
    await toast(/added lab-gpu to slayer.hosts/).waitFor({ timeout: 15_000 });
    const files = ['User', 'Machine'].map((d) => join(profile.userDataDir, d, 'settings.json'));
    await waitFor(() => files.some((f) => /"lab-gpu"/.test(readFileSync(f, 'utf8'))), 10_000, 'slayer.hosts to hold lab-gpu');

    // With two hosts configured, a plan that says `run on localhost` still goes there without asking.
    // demo.slayer is still open from the first test: back to its tab, as a person would click it.
    await wb.page.keyboard.press('Escape');
    const demoTab = wb.page.locator('.tabs-container .tab', { hasText: 'demo.slayer' }).first();
    await demoTab.click();
    await shot('reopen-demo', wb.page.locator('.tabs-container .tab.active', { hasText: 'demo.slayer' }).first().waitFor({ timeout: 15_000 }));
    await wb.command('SLayer: Run Expansion', { opensPicker: true });
    const rows = picker.locator('.quick-input-list .monaco-list-row');
    await rows.first().waitFor({ timeout: 30_000 });
    assert.ok(await rows.filter({ hasText: 'not measured for this model yet' }).count() === 0, 'the demo was measured by demo-1: importance is not proposed again');
    assert.equal(await rows.filter({ hasText: 'lab-gpu' }).count(), 0, 'no host picker for a plan that names a configured host');
    await wb.page.keyboard.press('Escape');
  });
});

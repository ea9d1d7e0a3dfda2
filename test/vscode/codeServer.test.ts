// The extension proven in a real VS Code (code-server 4.100.3, VS Code 1.100.3): `npm run package`
// builds the .vsix, code-server's CLI installs it into a throwaway profile, and the in-editor mocha
// suite (test/vscode/suite) runs in code-server's Node extension host; each of its tests is
// reported here as a subtest. See docs/testing.md.
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ARTIFACTS, ensureCodeServer, ROOT } from './harness/codeServer';
import { waitFor as waitUntil } from '../remote/harness/processes';
import { packageVsix, type PackageReport } from './harness/packageVsix';
import { runSuiteInCodeServer } from './harness/runInCodeServer';
import { openWorkbench, type WorkbenchSession } from './harness/workbenchSession';

const tmp = mkdtempSync('/tmp/slv-pkg-');
process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));
/** SLAYER_DOC_IMAGES=1: a longer run (60 steps) and the screenshots copied to docs/images/ for the README. */
const DOC_IMAGES = process.env.SLAYER_DOC_IMAGES === '1';
const DOC_SHOTS = ['workbench-quickfix', 'workbench-problems', 'workbench-runs', 'workbench-curves', 'workbench-host-pick'];
let pkg: PackageReport | undefined;

describe('packaged extension in code-server', { timeout: 420_000 }, () => {
  before(() => ensureCodeServer());
  test('npm run package builds a .vsix from the bundles alone', () => {
    pkg = packageVsix(join(tmp, 'slayer-studio.vsix'));
    assert.deepEqual(pkg.problems, []);
    for (const f of ['extension/dist/extension.js', 'extension/syntaxes/slayer.tmLanguage.json', 'extension/language-configuration.json']) {
      assert.ok(pkg.entries.includes(f), `${f} is not in the .vsix`);
    }
    assert.ok(!pkg.entries.some((e) => e.includes('node_modules/')), 'node_modules leaked into the .vsix');
    console.log(`# vsix: ${(pkg.bytes / 1024).toFixed(1)} KiB, ${pkg.files} files`);
  });

  test('in-editor suite in code-server\'s extension host', { timeout: 300_000 }, async (t) => {
    assert.ok(pkg, 'the package step failed');
    const run = await runSuiteInCodeServer(pkg!.vsix);
    console.log(`# in-editor suite: exit ${run.exitCode} after ${(run.ms / 1000).toFixed(1)} s`);
    if (!run.results) assert.fail(`the suite wrote no results (exit ${run.exitCode}); server log:\n${run.serverLog.slice(-4000)}`);
    assert.ok(run.results.tests.length >= 5, `only ${run.results.tests.length} in-editor tests ran`);
    for (const r of run.results.tests) {
      if (r.ms !== undefined) console.log(`#   ${String(r.ms).padStart(6)} ms in the editor: ${r.title}`);
      await t.test(r.title, { skip: r.state === 'skipped' ? 'skipped in the editor' : false }, () => {
        if (r.state === 'failed') assert.fail(r.error ?? 'failed');
      });
    }
    assert.equal(run.exitCode, run.results.failures > 0 ? 1 : 0, 'the workbench reported a different exit code');
  });
});

/**
 * The tiny plan with an eval section: held-out perplexity of the base and the trained model (real
 * runner output; the file is given by its absolute path, as files on a host are). It says `run on
 * localhost`, so the gpu1 host added by a test is not offered.
 */
function writeEvaluatedPlan(workspace: string): void {
  const heldout = join(workspace, 'heldout.txt');
  writeFileSync(heldout, 'the cat sat on the mat. two plus two is four. paris is in france. '.repeat(8));
  const tiny = readFileSync(join(workspace, 'tiny.slayer'), 'utf8');
  writeFileSync(join(workspace, 'evaluated.slayer'), `${tiny.trimEnd()}\n\nrun on localhost\n\neval\n  when base, final\n  perplexity domain ${heldout}\n  seq 32\n  batch 2\n`);
}

describe('workbench UI: Chromium on code-server', { timeout: 900_000 }, () => {
  let ui: WorkbenchSession;
  before(async () => {
    ensureCodeServer();
    pkg ??= packageVsix(join(tmp, 'slayer-studio.vsix'));
    ui = await openWorkbench(pkg.vsix, { steps: DOC_IMAGES ? 60 : 3 });
    writeEvaluatedPlan(ui.workspace); // now, so that Quick Open has indexed it by the time it is run
  });
  after(async () => {
    await ui?.close();
    if (DOC_IMAGES) {
      mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
      for (const s of DOC_SHOTS) copyFileSync(join(ARTIFACTS, `${s}.png`), join(ROOT, 'docs', 'images', `${s}.png`));
    }
  });

  test('a broken plan shows its squiggle and its Problems entry; the grammar scopes it; the light-bulb quick fix clears both', async () => {
    const wb = ui.workbench;
    await wb.openFile('broken.slayer');
    await wb.page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 30_000 });
    await wb.page.keyboard.press('Control+Shift+M');
    const entry = wb.page.locator('.markers-panel .monaco-list-row', { hasText: 'unknown key "trian"' }).first();
    await entry.waitFor({ timeout: 15_000 });
    await wb.screenshot('workbench-problems');
    // The packaged TextMate grammar scopes the `expand` key (Developer: Inspect Editor Tokens and Scopes).
    await wb.goToLine(3);
    await wb.command('Developer: Inspect Editor Tokens and Scopes');
    await wb.page.locator('.token-inspect-widget', { hasText: 'keyword.other.key.slayer' }).waitFor({ timeout: 15_000 });
    await wb.page.keyboard.press('Escape');
    // The quick fix from the light bulb menu (Ctrl+.) on the error: squiggle and entry go away.
    await wb.goToLine(4);
    await wb.page.keyboard.press('Control+.');
    const fix = wb.page.locator('.action-widget .monaco-list-row.focused', { hasText: 'Change to "train"' }).first();
    await fix.waitFor({ timeout: 15_000 }).catch(async (e: Error) => {
      await wb.screenshot('workbench-quickfix-failed');
      throw e;
    });
    await wb.screenshot('workbench-quickfix');
    await wb.page.keyboard.press('Enter'); // the menu opens with the preferred fix focused
    await wb.page.locator('.monaco-editor .squiggly-error').first().waitFor({ state: 'detached', timeout: 30_000 });
    await entry.waitFor({ state: 'detached', timeout: 15_000 });
    assert.match(await wb.page.locator('.monaco-editor .view-line', { hasText: 'new' }).first().innerText(), /^train\s+new/);
  });

  test('"SLayer: Run Expansion" from the command palette runs on localhost and the Runs view shows it succeed', async () => {
    const wb = ui.workbench;
    await wb.openFile('tiny.slayer');
    await wb.command('SLayer: Run Expansion', { opensPicker: true });
    // The phase picker (remembered per plan): Enter takes the ticked phases.
    await wb.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'surgery' }).waitFor({ timeout: 30_000 });
    await wb.page.keyboard.press('Enter');
    await wb.showContainer('SLayer');
    const row = wb.page.locator('.monaco-list-row', { hasText: /succeeded/ }).first();
    const host = wb.page.locator('.monaco-list-row[aria-expanded="false"]', { hasText: 'localhost' });
    await waitUntil(async () => {
      // The host node gains children with the first run; open it if it shows collapsed.
      if (await host.count()) await host.first().click();
      return row.isVisible();
    }, 150_000, 'the run to show as succeeded in the Runs view').catch(async (e: Error) => {
      await wb.screenshot('workbench-runs-failed');
      throw e;
    });
    assert.match(await row.innerText(), /loss \d+\.\d{4}/, 'the run row shows the last loss');
    await wb.screenshot('workbench-runs');
  });

  test('"SLayer: Show Training Curves" opens the curves webview filled with the run\'s points', async () => {
    assert.ok(ui.commands.has('slayer.showTrainingCurves'), 'the manifest contributes no slayer.showTrainingCurves');
    const wb = ui.workbench;
    await wb.command('SLayer: Show Training Curves');
    const frame = await wb.webviewFrame('curves');
    // The view keeps its Chart.js charts on window.slayerView; count the loss curve's points.
    const points = async () => frame.evaluate(() => {
      const view = (window as unknown as { slayerView?: { charts: Map<string, { data: { datasets: { data: unknown[] }[] } }> } }).slayerView;
      return view?.charts.get('loss')?.data.datasets.reduce((n, d) => n + d.data.length, 0) ?? 0;
    });
    await waitUntil(async () => (await points()) >= 3, 30_000, 'the loss chart to hold the run\'s 3 steps');
    assert.ok(await frame.locator('canvas').first().isVisible(), 'no chart canvas is visible');
    await wb.command('View: Hide Panel'); // room for the charts
    await wb.screenshot('workbench-curves');
  });

  test('with a GPU host added to slayer.hosts, the Runs view lists it and Run Expansion asks which host', async () => {
    const wb = ui.workbench;
    // What a user writes in settings for a GPU box (README, "Your first run on a real GPU host").
    for (const f of ui.settingsFiles) {
      const settings = JSON.parse(readFileSync(f, 'utf8')) as { 'slayer.hosts': Record<string, unknown> };
      settings['slayer.hosts'] = { ...settings['slayer.hosts'], gpu1: { python: '/opt/conda/envs/torch/bin/python', workDir: '~/slayer-runs', gpusPerNode: 8 } };
      writeFileSync(f, JSON.stringify(settings, null, 2));
    }
    await wb.showContainer('SLayer');
    const gpuHost = wb.page.locator('.monaco-list-row', { hasText: 'gpu1' }).first();
    await gpuHost.waitFor({ timeout: 30_000 });
    assert.match(await gpuHost.innerText(), /no runs/);
    await wb.openFile('tiny.slayer');
    await wb.command('SLayer: Run Expansion', { opensPicker: true });
    const picker = wb.page.locator('.quick-input-widget');
    await picker.locator('.quick-input-list .monaco-list-row', { hasText: 'gpu1' }).waitFor({ timeout: 15_000 });
    assert.ok(await picker.locator('.quick-input-list .monaco-list-row', { hasText: 'localhost' }).count(), 'localhost is not offered');
    await wb.screenshot('workbench-host-pick');
    await wb.page.keyboard.press('Escape');
    await picker.waitFor({ state: 'hidden', timeout: 10_000 });
    assert.match(await gpuHost.innerText(), /no runs/, 'dismissing the picker dispatched something');
  });

  test('a plan with an eval section runs on localhost and "SLayer: Show Evaluation" shows its held-out perplexity, base and final', async () => {
    const wb = ui.workbench;
    await wb.openFile('evaluated.slayer');
    await wb.command('SLayer: Run Expansion', { opensPicker: true });
    // The phase picker: a plan with an eval section gets the eval phase ticked.
    await wb.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'surgery' }).waitFor({ timeout: 30_000 });
    await wb.page.keyboard.press('Enter');
    await wb.command('SLayer: Show Evaluation');
    const frame = await wb.webviewFrame('evaluation');
    const row = frame.locator('#scores tr[data-task="heldout.txt"]'); // a perplexity set is named by its file
    await waitUntil(async () => (await row.count()) > 0 && /\d/.test((await row.first().locator('td.delta').allInnerTexts()).join(' ')), 300_000,
      'the held-out perplexity of base and final in the Evaluation view').catch(async (e: Error) => {
      await wb.screenshot('workbench-evaluation-failed');
      throw e;
    });
    const cells = await row.first().locator('td').allInnerTexts();
    assert.equal(cells[0], 'domain');
    assert.ok(cells.filter((c) => /\d+\.\d{3}/.test(c)).length >= 3, `the base score, the final model's and the difference: ${JSON.stringify(cells)}`);
    await wb.command('View: Hide Panel');
    await row.first().scrollIntoViewIfNeeded();
    await wb.screenshot('workbench-evaluation');
  });
});

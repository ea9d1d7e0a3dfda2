// Sweeps and suggested expansions walked as a person walks them, in code-server with the packaged
// extension and Chromium: a copy of examples/ (the project's venv one folder up), default settings.
// Run Sweep on placement-sweep.slayer (two of its variants, a few steps: a shared CPU is slow), the
// sweep as one node of the Runs view with its variants below it, each ending with a word, then
// Export Sweep Table… → Markdown through the save dialog, one row per variant. Then Suggest
// Expansion… on demo.slayer with a measurement of its model in the workspace's run artifacts: the
// three quick picks, the preview over the importance charts, Apply to plan rewriting the expand
// line. Screenshots go to test-artifacts/sweep-runs.png and suggest-preview.png.
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator } from 'playwright-core';
import { launchChromium } from './harness/browser';
import { ARTIFACTS, ensureCodeServer, installVsix, makeProfile, ROOT, startCodeServer, type CodeServer, type EditorProfile } from './harness/codeServer';
import { packageVsix } from './harness/packageVsix';
import { Workbench } from './harness/workbench';
import { waitFor } from '../remote/harness/processes';
import { PROJECT_PYTHON } from '../helpers/python';

/** Steps of each variant's stage (the bundled sweep trains 100; a shared CI core is slow). */
const STEPS = 6;
/** The bundled sweep's variants, in its order: LLaMA Pro's placements and both controls. */
const VARIANTS = ['slayer', 'interleaved', 'bottom', 'top', 'last2', 'full'];

/**
 * A measurement of the demo's 8-block model as `slayer_runner importance` writes it (the schema's
 * fields): the deepest blocks matter least, the shallow ones most, as in the paper's Figure 2.
 */
function importanceOf(model: string): object {
  const removal = [0.92, 0.61, 0.55, 0.47, 0.33, 0.21, 0.04, 0.02];
  return {
    v: 1, model, num_layers: 8,
    calibration: { source: 'sample', sequences: 16, tokens: 1024, seq_len: 64 },
    baseline_loglik: -5.52,
    angular_all: [0.31, 0.22, 0.2, 0.18, 0.15, 0.12, 0.08, 0.07],
    angular_last: [0.29, 0.21, 0.19, 0.17, 0.14, 0.11, 0.09, 0.06],
    removal_drop: removal, insert_copy_drop: null, insert_average_drop: null,
  };
}

describe('sweeps and suggested expansions in code-server, as a person walks them', { timeout: 1_500_000 }, () => {
  const tmp = mkdtempSync('/tmp/slv-ss-');
  let profile: EditorProfile;
  let server: CodeServer;
  let browser: Browser;
  let wb: Workbench;

  before(async () => {
    ensureCodeServer();
    const { vsix } = packageVsix(join(tmp, 'slayer-studio.vsix'));
    const examples = join(tmp, 'examples');
    cpSync(join(ROOT, 'examples'), examples, { recursive: true });
    // The bundled sweep with fewer steps.
    const sweep = readFileSync(join(examples, 'placement-sweep.slayer'), 'utf8');
    assert.match(sweep, /^run on localhost weights random$/m, 'the bundled sweep says it uses random weights');
    for (const v of VARIANTS) assert.match(sweep, new RegExp(`^\\s+${v}\\b`, 'm'), `the bundled sweep has the variant ${v}`);
    writeFileSync(join(examples, 'placement-sweep.slayer'), sweep.replace(/^(\s+steps\s+)\d+$/m, `$1${STEPS}`));
    profile = makeProfile(() => ({}), examples);
    symlinkSync(dirname(dirname(PROJECT_PYTHON)), join(dirname(profile.workspace), '.venv'));
    // A fetched run's measurement of the demo's model, where the importance index looks.
    const out = join(profile.workspace, '.slayer', 'runs', 'r-measured', 'out');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'importance.json'), JSON.stringify(importanceOf(join(profile.workspace, 'tiny-llama')), null, 1));
    installVsix(profile, vsix);
    const home = join(profile.dir, 'home');
    mkdirSync(home, { recursive: true });
    server = await startCodeServer(profile, { HOME: home });
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultNavigationTimeout(120_000);
    await page.goto(server.workbenchUrl(profile.workspace));
    wb = new Workbench(page);
    await wb.ready('placement-sweep.slayer');
    await wb.page.locator('.activitybar a[aria-label^="SLayer"]').first().waitFor({ timeout: 120_000 });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    profile?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  const toast = (text: string | RegExp): Locator => wb.page.locator('.notification-toast', { hasText: text }).first();
  const row = (text: string | RegExp): Locator => wb.page.locator('.monaco-list-row', { hasText: text }).first();
  const pickRow = (text: string | RegExp): Locator => wb.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: text }).first();
  const shot = async <T>(name: string, p: Promise<T>): Promise<T> => p.catch(async (e: Error) => {
    await wb.screenshot(`sweep-suggest-${name}-failed`);
    cpSync(join(profile.userDataDir, 'logs'), join(ARTIFACTS, 'sweep-suggest-logs'), { recursive: true });
    writeFileSync(join(ARTIFACTS, 'sweep-suggest-code-server.log'), server.log());
    throw e;
  });
  /** A palette command that a loaded machine may list late: asked again until it is there. */
  const paletteCommand = (title: string) => waitFor(async () => wb.command(title, { opensPicker: true }).then(() => true, async () => {
    await wb.page.keyboard.press('Escape');
    return false;
  }), 120_000, `${title} in the command palette`);

  test('Run Sweep: one node with its variants in the Runs view, each ends; Export Sweep Table… writes one row per variant', async () => {
    await wb.openFile('placement-sweep.slayer');
    await paletteCommand('SLayer: Run Sweep');
    // The plan names localhost: nothing to answer, the variants run one after another.
    const end = toast(new RegExp(`sweep placement: \\d of ${VARIANTS.length} variants succeeded`));
    await shot('sweep-end', end.waitFor({ timeout: 1_200_000 }));
    const endText = await end.innerText();
    for (const action of ['Export Table…', 'Compare Curves']) assert.ok(await end.locator('.monaco-button', { hasText: action }).count(), `the end notification offers ${action}`);
    // One notification for the sweep: a variant that succeeded adds no toast of its own.
    assert.equal(await wb.page.locator('.notification-toast', { hasText: /placement-\S+ succeeded/ }).count(), 0, 'no per-variant toasts');

    // The Runs view: the sweep under localhost, its two runs below it in variant order.
    await wb.showContainer('SLayer');
    const host = wb.page.locator('.monaco-list-row[aria-expanded="false"]', { hasText: 'localhost' });
    if (await host.count()) await host.first().click();
    const sweepRow = row(/sweep placement/);
    await shot('sweep-node', waitFor(async () => new RegExp(`${VARIANTS.length} variants · .*(succeeded|failed)`).test(await sweepRow.innerText().catch(() => '')), 60_000, 'the sweep node to count its ended variants'));
    const level = Number(await sweepRow.getAttribute('aria-level'));
    const runs = VARIANTS.map((v) => row(`placement-${v}`));
    for (const [i, r] of runs.entries()) {
      await shot(`variant-${VARIANTS[i]}`, waitFor(async () => /succeeded|failed/.test(await r.innerText().catch(() => '')), 60_000, `placement-${VARIANTS[i]} to end`));
      assert.equal(Number(await r.getAttribute('aria-level')), level + 1, `placement-${VARIANTS[i]} sits under the sweep node`);
    }
    const indexes = await Promise.all(runs.map((r) => r.getAttribute('data-index')));
    for (let i = 1; i < indexes.length; i++) assert.ok(Number(indexes[i - 1]) < Number(indexes[i]), 'the variants are in the plan\'s order');
    // A variant that failed says why (the end notification names it; its tooltip has the reason).
    const states = await Promise.all(runs.map((r) => r.innerText()));
    const succeeded = states.filter((s) => /succeeded/.test(s)).length;
    assert.match(endText, new RegExp(`${succeeded} of ${VARIANTS.length} variants succeeded`));
    for (const [i, s] of states.entries()) if (/failed/.test(s)) assert.match(endText, new RegExp(`not: .*${VARIANTS[i]}`));
    await wb.screenshot('sweep-runs');

    // Export Sweep Table… from the palette: which sweep, which format, where (the save dialog).
    await paletteCommand('SLayer: Export Sweep Table…');
    await shot('export-sweep', pickRow('sweep placement').click({ timeout: 30_000 }));
    await shot('export-format', pickRow('Markdown').click({ timeout: 30_000 }));
    // code-server's save dialog is the simple one: a path in a quick input, the default proposed.
    const input = wb.page.locator('.quick-input-widget input').first();
    await shot('export-save', waitFor(async () => /sweep-placement\.md$/.test(await input.inputValue().catch(() => '')), 30_000, 'the save dialog to propose sweep-placement.md'));
    await wb.page.keyboard.press('Enter');
    await shot('export-done', toast(/the table of sweep placement is in sweep-placement\.md/).waitFor({ timeout: 30_000 }));
    const file = join(profile.workspace, 'sweep-placement.md');
    assert.ok(existsSync(file), 'the table is where the dialog said');
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('|'));
    const rows = lines.slice(2); // the header and the alignment row
    assert.match(lines[0] ?? '', /variant/);
    assert.match(lines[1] ?? '', /^\|[\s:|-]+\|$/);
    assert.equal(rows.length, VARIANTS.length, `one row per variant:\n${lines.join('\n')}`);
    for (const [i, v] of VARIANTS.entries()) {
      assert.match(rows[i]!, new RegExp(`^\\| ${v} \\|`), `row ${i + 1} is the variant ${v}`);
      assert.match(rows[i]!, /succeeded|failed/, `row ${i + 1} says how ${v} ended`);
    }
    // The controls keep all eight blocks: `none` in the plan, the notation's `8` in the table.
    assert.match(rows[VARIANTS.indexOf('last2')]!, /^\| last2 \| 8 \| last 2 \| 8 \|/, 'the control has no new block');
    assert.match(rows[VARIANTS.indexOf('full')]!, /^\| full \| 8 \| all \| 8 \|/, 'full fine-tuning has no new block');
  });

  test('Suggest Expansion…: budget, deletions, strategy; the preview over the importance charts; Apply to plan rewrites the expand line', async () => {
    await wb.openFile('demo.slayer');
    const before = readFileSync(join(profile.workspace, 'demo.slayer'), 'utf8').match(/^expand\s+(.+)$/m)![1]!.trim();
    await paletteCommand('SLayer: Suggest Expansion…');
    // 1/3 the budget: four new blocks (the plan has two now).
    const title = wb.page.locator('.quick-input-widget .quick-input-title');
    await shot('suggest-budget', waitFor(async () => /Suggest Expansion \(1\/3\)/.test(await title.innerText().catch(() => '')), 60_000, 'the budget pick'));
    assert.ok(await pickRow('as many as the plan has now').count(), 'the plan\'s own number of new blocks is offered');
    await pickRow(/^\s*4 new blocks/).click();
    // 2/3 the deletions: as the plan does now (one).
    await shot('suggest-deletions', waitFor(async () => /\(2\/3\)/.test(await title.innerText().catch(() => '')), 30_000, 'the deletions pick'));
    await pickRow('as many as the plan deletes now').click();
    // 3/3 the strategy: each shows the plan it would write; the paper's.
    await shot('suggest-strategy', waitFor(async () => /\(3\/3\)/.test(await title.innerText().catch(() => '')), 30_000, 'the strategy pick'));
    const slayer = pickRow(/^\s*slayer/);
    const detail = await slayer.innerText();
    assert.match(detail, /blocks\s+·\s+deletes/, 'the strategy shows the plan it would write');
    assert.ok(await pickRow(/llama-pro/).count(), 'LLaMA Pro\'s placement is offered too');
    await slayer.click();

    // The preview: the suggested plan over the measurement of this model, drawn on the charts.
    const frame = await shot('suggest-view', wb.webviewFrame('importance', 60_000));
    const panel = frame.locator('#suggestion');
    await shot('suggest-preview', panel.locator('#suggestion-apply').waitFor({ timeout: 60_000 }));
    assert.match(await panel.innerText(), /Suggested expansion \(slayer\)/);
    const suggested = await frame.evaluate(() => {
      const view = (window as unknown as { slayerView: { suggestion(): { expand: string } | null; charts: Map<string, { options: { plugins: Record<string, { blocks: unknown[] | null }> } }> } }).slayerView;
      const drawn = [...view.charts.values()].filter((c) => (c.options.plugins.slayerSuggestion?.blocks?.length ?? 0) > 0).length;
      return { expand: view.suggestion()?.expand ?? '', drawn };
    });
    assert.ok(suggested.drawn > 0, 'the suggestion is drawn over at least one importance chart');
    assert.notEqual(suggested.expand, '');
    assert.notEqual(suggested.expand, before, 'four new blocks is not the plan as it is');
    assert.ok((await panel.innerText()).includes(suggested.expand), 'the panel shows the notation it would write');
    assert.match(await frame.locator('body').innerText(), /tiny-llama · 8 blocks/, 'the measurement of the plan\'s model is shown');
    await wb.screenshot('suggest-preview');

    // Apply to plan: a workspace edit of the plan, the view says what changed; the plan on disk has
    // the new line once saved (VS Code may save a workspace edit itself; Ctrl+S is harmless then).
    await frame.locator('#suggestion-apply').click();
    const notice = frame.locator('#notice');
    await shot('suggest-applied', waitFor(async () => (await notice.innerText().catch(() => '')) === `expand ${before} → ${suggested.expand}`, 30_000, 'the view to say the expand line was rewritten'));
    await panel.waitFor({ state: 'hidden', timeout: 15_000 });
    const tab = wb.page.locator('.tabs-container .tab', { hasText: 'demo.slayer' }).first();
    await tab.click();
    await wb.page.keyboard.press('Control+S');
    const expandOnDisk = () => readFileSync(join(profile.workspace, 'demo.slayer'), 'utf8').match(/^expand\s+(.+)$/m)?.[1]?.trim();
    await shot('suggest-saved', waitFor(() => expandOnDisk() === suggested.expand, 30_000, 'demo.slayer saved with the suggested expand line'));
    await wb.screenshot('suggest-applied');
  });
});

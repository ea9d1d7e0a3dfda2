// The quick fixes as a person uses them, in code-server's workbench with the packaged extension:
// the light bulb (Ctrl+.) on SL024 offers "Keep 13 blocks instead of 12", and accepting it leaves
// the plan without the warning and without any other; the unknown `run on` host offers "Add … to
// slayer.hosts…". Screenshots go to test-artifacts/.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureCodeServer } from './harness/codeServer';
import { packageVsix } from './harness/packageVsix';
import { openWorkbench, type WorkbenchSession } from './harness/workbenchSession';

const tmp = mkdtempSync('/tmp/slv-qf-');
process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));

describe('quick fixes in the workbench (Chromium on code-server)', { timeout: 300_000 }, () => {
  let ui: WorkbenchSession;
  before(async () => {
    ensureCodeServer();
    ui = await openWorkbench(packageVsix(join(tmp, 'slayer-studio.vsix')).vsix);
  });
  after(async () => {
    await ui?.close();
  });

  test('SL024\'s quick fix keeps one more block, and the plan is left with no warning; the unknown host offers Add Host', async () => {
    const wb = ui.workbench;
    await wb.openFile('deletes-three.slayer');
    const warnings = wb.page.locator('.monaco-editor .squiggly-warning');
    await warnings.first().waitFor({ timeout: 30_000 });
    assert.equal(await wb.page.locator('.monaco-editor .squiggly-hint, .monaco-editor .squiggly-inline-hint').count(), 0, 'no hint on the paper\'s notation');
    // Two warnings: SL024 on the expansion, SL052 on the host (the status bar counts them).
    await wb.page.waitForFunction(() => document.querySelectorAll('.monaco-editor .squiggly-warning').length >= 2, undefined, { timeout: 30_000 });

    // The unknown host on line 7: its light bulb offers to add it (the command itself is the Runs feature's).
    await wb.goToLine(7);
    for (let i = 0; i < 9; i++) await wb.page.keyboard.press('ArrowRight'); // into "nowhere-box"
    await wb.page.keyboard.press('Control+.');
    await wb.page.locator('.action-widget .monaco-list-row', { hasText: 'Add "nowhere-box" to slayer.hosts…' }).first().waitFor({ timeout: 15_000 }).catch(async (e: Error) => {
      await wb.screenshot('workbench-quickfix-unknown-host-failed');
      throw e;
    });
    await wb.screenshot('workbench-quickfix-unknown-host');
    await wb.page.keyboard.press('Escape');

    // SL024 on the expansion (line 4).
    await wb.goToLine(4);
    await wb.page.keyboard.press('End');
    await wb.page.keyboard.press('Control+.');
    const fix = wb.page.locator('.action-widget .monaco-list-row', { hasText: 'Keep 13 blocks instead of 12 so only 2 blocks are deleted' }).first();
    await fix.waitFor({ timeout: 15_000 }).catch(async (e: Error) => {
      await wb.screenshot('workbench-quickfix-sl024-failed');
      throw e;
    });
    await wb.screenshot('workbench-quickfix-sl024');
    assert.match((await fix.getAttribute('class')) ?? '', /\bfocused\b/, 'the fix is the one the menu offers first');
    await wb.page.keyboard.press('Enter');
    // (The line also shows inlay hints between the segments, and Monaco renders spaces as U+00A0.)
    await wb.page.locator('.monaco-editor .view-line', { hasText: /^expand\s+\(2\+1\)x8.*\|\s13\b/ }).first().waitFor({ timeout: 15_000 });
    // Only the host warning is left: one squiggle, on line 7.
    await wb.page.waitForFunction(() => document.querySelectorAll('.monaco-editor .squiggly-warning').length === 1, undefined, { timeout: 30_000 });
    await wb.page.keyboard.press('Control+Shift+M');
    const rows = wb.page.locator('.markers-panel .monaco-list-row', { hasText: /SL0\d\d/ });
    await wb.page.locator('.markers-panel .monaco-list-row', { hasText: 'nowhere-box' }).first().waitFor({ timeout: 15_000 });
    const texts = await rows.allInnerTexts();
    assert.ok(texts.every((t) => t.includes('SL052')), `only the unknown host is left: ${texts.join(' | ')}`);
    await wb.screenshot('workbench-quickfix-after');
  });
});

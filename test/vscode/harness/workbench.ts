// Driving code-server's workbench the way a person does: quick open, the command palette, the
// activity bar, the Problems panel; screenshots into test-artifacts/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Locator, Page } from 'playwright-core';
import { ARTIFACTS } from './codeServer';

export class Workbench {
  constructor(readonly page: Page) {}

  /** The workbench is up and the explorer shows the workspace's files. */
  async ready(file: string): Promise<void> {
    // Bounds for a loaded machine, where the first paint and the explorer can each take a minute or more.
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    await this.explorerRow(file).waitFor({ timeout: 120_000 });
  }

  explorerRow(name: string): Locator {
    return this.page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  }

  /** Opens a workspace file through Quick Open (the command palette without its `>`). */
  async openFile(name: string): Promise<void> {
    await this.palette('');
    await this.page.keyboard.type(name);
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15_000 });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: 15_000 });
  }

  /** Puts the cursor at the start of a 1-based line of the active editor (Quick Open's `:N`). */
  async goToLine(line: number): Promise<void> {
    await this.palette(`:${line}`);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /** Runs a command by its palette title, as typed by a user; `opensPicker`: it answers with a quick pick. */
  async command(title: string, opts: { opensPicker?: boolean } = {}): Promise<void> {
    await this.palette('>');
    await this.page.keyboard.type(title);
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15_000 });
    await this.page.keyboard.press('Enter');
    if (!opts.opensPicker) await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /** F1 opens the palette with `>`; the prefix decides commands (`>`) or files (``). */
  private async palette(prefix: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    await this.page.keyboard.press('F1');
    // A focused webview (the curves) can keep F1 from the workbench: then open Quick Open from the
    // title bar's command center, as a person would click it.
    if (!(await input.waitFor({ timeout: 5_000 }).then(() => true, () => false))) {
      await this.page.locator('.command-center .command-center-center').first().click();
      await input.waitFor({ timeout: 10_000 });
    }
    await input.fill(prefix);
  }

  /** Shows a view container by clicking its activity bar entry (unless it is showing: a click would hide it). */
  async showContainer(title: string): Promise<void> {
    const item = this.page.locator('.activitybar .action-item', { has: this.page.locator(`a[aria-label^="${title}"]`) }).first();
    if (!/\bchecked\b/.test((await item.getAttribute('class')) ?? '')) await item.click();
  }

  /**
   * The frame of our webview showing `view` (body[data-view]); webviews sit two iframes deep
   * (iframe.webview → #active-frame), and page.frames() lists nested frames too.
   */
  async webviewFrame(view: string, timeoutMs = 20_000): Promise<Frame> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      for (const f of this.page.frames()) {
        if ((await f.locator(`body[data-view="${view}"]`).count().catch(() => 0)) > 0) return f;
      }
      if (Date.now() > end) throw new Error(`no webview showing "${view}" within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }
}

// One code-server with the packaged extension installed and one Chromium page on its workbench,
// for the UI tests (the in-editor suite gets its own server and profile).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser';
import { installVsix, makeProfile, startCodeServer, type CodeServer, type EditorProfile } from './codeServer';
import { runSettings, WORKSPACE_FIXTURE } from './runInCodeServer';
import { Workbench } from './workbench';

export interface WorkbenchSession {
  workbench: Workbench;
  extensionDir: string;
  /** The workspace folder the window has open (a copy of test/vscode/fixtures/workspace). */
  workspace: string;
  /** The profile's User and Machine settings.json (a remote window reads machine-scoped keys from the latter). */
  settingsFiles: string[];
  /** Commands the packaged manifest contributes. */
  commands: Set<string>;
  close(): Promise<void>;
}

/** `steps`: training steps of the tiny plan's stage (3 for the tests; more for README pictures). */
export async function openWorkbench(vsix: string, opts: { steps?: number } = {}): Promise<WorkbenchSession> {
  const steps = opts.steps ?? 3;
  let profile: EditorProfile | undefined;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server?.stop();
    profile?.dispose();
  };
  try {
    profile = makeProfile((dir) => runSettings(join(dir, 'runs'), steps), WORKSPACE_FIXTURE);
    const plan = join(profile.workspace, 'tiny.slayer');
    writeFileSync(plan, readFileSync(plan, 'utf8').replace(/^(\s+steps\s+)\d+$/m, `$1${steps}`));
    const extensionDir = installVsix(profile, vsix);
    const manifest = JSON.parse(readFileSync(join(extensionDir, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
    server = await startCodeServer(profile);
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultNavigationTimeout(120_000); // a shared, loaded machine serves the workbench slowly
    await page.goto(server.workbenchUrl(profile.workspace));
    const workbench = new Workbench(page);
    await workbench.ready('tiny.slayer');
    return {
      workbench, extensionDir, close, workspace: profile.workspace,
      settingsFiles: ['User', 'Machine'].map((d) => join(profile!.userDataDir, d, 'settings.json')),
      commands: new Set(manifest.contributes.commands.map((c) => c.command)),
    };
  } catch (e) {
    await close();
    throw e;
  }
}

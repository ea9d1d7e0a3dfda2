// Runs the in-editor suite inside code-server's Node extension host, the way VS Code's own
// extension-test runner does on desktop: the workbench is opened with an extension-development
// payload (extensionDevelopmentPath = the folder code-server unpacked from our .vsix,
// extensionTestsPath = the bundled suite). The workbench calls window.codeAutomationExit(code)
// when run() settles; the per-test outcomes come back through $SLAYER_SUITE_RESULTS, which the
// extension host inherits from the server's environment.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from './browser';
import { ARTIFACTS, installVsix, makeProfile, ROOT, startCodeServer } from './codeServer';
import { bundleSuite, readResults, type SuiteResults } from './inEditorSuite';
import { PROJECT_PYTHON } from '../../helpers/python';

export const WORKSPACE_FIXTURE = join(ROOT, 'test', 'vscode', 'fixtures', 'workspace');

/** Settings for runs on localhost: the Debian torch interpreter, a tiny random model, 3 steps. */
export function runSettings(workDir: string, maxSteps = 3): Record<string, unknown> {
  return {
    'slayer.hosts': { localhost: { python: PROJECT_PYTHON, workDir } },
    'slayer.defaultHost': 'localhost',
    'slayer.runs.tinyModel': true,
    'slayer.runs.maxSteps': maxSteps,
  };
}

export interface InEditorRun {
  results: SuiteResults | null;
  exitCode: number | null;
  ms: number;
  serverLog: string;
}

export async function runSuiteInCodeServer(vsix: string, opts: { grep?: string; timeoutMs?: number } = {}): Promise<InEditorRun> {
  const started = Date.now();
  const profile = makeProfile((dir) => runSettings(join(dir, 'runs')), WORKSPACE_FIXTURE);
  const extensionDir = installVsix(profile, vsix);
  const suiteIndex = await bundleSuite(join(ROOT, 'out', `vscode-suite-${process.pid}`));
  const resultsFile = join(profile.dir, 'results.json');
  const server = await startCodeServer(profile, {
    SLAYER_SUITE_RESULTS: resultsFile,
    ...(opts.grep ? { SLAYER_SUITE_GREP: opts.grep } : {}),
  });
  const browser = await launchChromium();
  let exitCode: number | null = null;
  try {
    const page = await browser.newPage();
    const exited = new Promise<void>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => {
        exitCode = code;
        resolve();
      });
    });
    page.setDefaultNavigationTimeout(120_000); // a shared, loaded machine serves the workbench slowly
    await page.goto(server.workbenchUrl(profile.workspace, [
      ['extensionDevelopmentPath', server.remoteUri(extensionDir)],
      ['extensionTestsPath', server.remoteUri(join(suiteIndex, '..'))],
    ]));
    const timeoutMs = opts.timeoutMs ?? 240_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); })]);
    clearTimeout(timer);
    // Kept for a post-mortem: the server's log (extension host launches and exits) and the outcomes.
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'in-editor-suite.code-server.log'), server.log());
    if (existsSync(resultsFile)) cpSync(resultsFile, join(ARTIFACTS, 'in-editor-suite.results.json'));
    return { results: readResults(resultsFile), exitCode, ms: Date.now() - started, serverLog: server.log() };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(join(suiteIndex, '..'), { recursive: true, force: true });
    profile.dispose();
  }
}

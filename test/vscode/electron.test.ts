// The same in-editor suite under @vscode/test-electron, the way extension authors run it on a
// desktop VS Code: wherever a VS Code build is installed (VSCODE_EXECUTABLE_PATH, or a folder
// pre-seeded in .vscode-test/ as test-electron leaves it). VS Code's desktop build cannot be
// downloaded on our machines, so elsewhere this test is skipped with the reason; CI proves the
// suite in code-server (codeServer.test.ts). See docs/testing.md.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveCliArgsFromVSCodeExecutablePath, runTests } from '@vscode/test-electron';
import { makeProfile, ROOT } from './harness/codeServer';
import { bundleSuite, readResults } from './harness/inEditorSuite';
import { packageVsix } from './harness/packageVsix';
import { runSettings, WORKSPACE_FIXTURE } from './harness/runInCodeServer';

/** A desktop VS Code executable: $VSCODE_EXECUTABLE_PATH, else one unpacked under .vscode-test/. */
function findVsCode(): string | undefined {
  const fromEnv = process.env.VSCODE_EXECUTABLE_PATH;
  if (fromEnv) return fromEnv;
  const cache = join(ROOT, '.vscode-test');
  if (!existsSync(cache)) return undefined;
  for (const d of readdirSync(cache).filter((n) => n.startsWith('vscode-')).sort().reverse()) {
    for (const exe of ['code', 'Code.exe', 'Visual Studio Code.app/Contents/MacOS/Electron', 'VSCode-linux-x64/code']) {
      if (existsSync(join(cache, d, exe))) return join(cache, d, exe);
    }
  }
  return undefined;
}

const exe = findVsCode();
const skip = !exe
  ? 'no desktop VS Code here: set VSCODE_EXECUTABLE_PATH or pre-seed .vscode-test/ (the suite runs in code-server instead)'
  : process.platform === 'linux' && !process.env.DISPLAY
    ? `VS Code at ${exe} needs a display: run under xvfb-run`
    : false;

test('in-editor suite under @vscode/test-electron (desktop VS Code)', { skip, timeout: 300_000 }, async () => {
  const tmp = mkdtempSync('/tmp/slv-el-');
  const profile = makeProfile((dir) => runSettings(join(dir, 'runs')), WORKSPACE_FIXTURE);
  try {
    // The packaged .vsix, installed by that VS Code's own CLI into the throwaway profile.
    const pkg = packageVsix(join(tmp, 'slayer-studio.vsix'));
    assert.deepEqual(pkg.problems, []);
    // reuseMachineInstall: no default profile flags from test-electron; ours follow.
    const [cli, ...cliArgs] = resolveCliArgsFromVSCodeExecutablePath(exe!, { reuseMachineInstall: true });
    const install = spawnSync(cli!, [...cliArgs, '--extensions-dir', profile.extensionsDir, '--user-data-dir', profile.userDataDir, '--install-extension', pkg.vsix], { encoding: 'utf8' });
    assert.equal(install.status, 0, `${cli} --install-extension failed: ${install.stdout}${install.stderr}`);
    const extensionDir = readdirSync(profile.extensionsDir).find((d) => d.startsWith('slayer-studio.slayer-studio-'));
    assert.ok(extensionDir, 'the .vsix did not install');
    const suite = await bundleSuite(join(ROOT, 'out', `vscode-suite-el-${process.pid}`));
    const resultsFile = join(tmp, 'results.json');
    let error: unknown;
    try {
      await runTests({
        vscodeExecutablePath: exe,
        extensionDevelopmentPath: join(profile.extensionsDir, extensionDir),
        extensionTestsPath: suite,
        launchArgs: [profile.workspace, '--user-data-dir', profile.userDataDir, '--extensions-dir', profile.extensionsDir, '--disable-workspace-trust'],
        extensionTestsEnv: { SLAYER_SUITE_RESULTS: resultsFile },
      });
    } catch (e) {
      error = e;
    } finally {
      rmSync(join(suite, '..'), { recursive: true, force: true });
    }
    const results = readResults(resultsFile);
    assert.ok(results, `the suite wrote no results: ${String(error)}`);
    const failed = results.tests.filter((t) => t.state === 'failed');
    assert.deepEqual(failed.map((t) => `${t.title}: ${t.error}`), []);
    assert.equal(error, undefined);
  } finally {
    profile.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
});

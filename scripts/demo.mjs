#!/usr/bin/env node
// `npm run demo`: the whole SLayer flow on this machine, no GPU needed.
//   1. set-up (Debian packages, npm ci) and build;
//   2. the paper's SLayer-8B plan explained (Table 4's numbers, from the plan core);
//   3. examples/demo.slayer run on the embedded `localhost` target through the same dispatch code
//      as a remote host: random weights of a tiny 8-block Llama shape, layer importance, surgery,
//      a few hundred CPT steps of the new blocks on the runner's bundled text, streamed live;
//   4. the results as pictures: demo-output/report/{loss,lr,importance}.svg, report.html and,
//      when Chromium is installed, report.png.
// Every demo run is kept (demo-output/runs/RUN_ID); nothing outside demo-output/ is written.
// SLAYER_SKIP_SETUP=1 skips step 1's installs; DEMO_MAX_STEPS overrides the step cap.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectPython } from './lib/projectPython.mjs';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
process.chdir(root);
const out = join(root, 'demo-output');
const started = Date.now();

function banner(text) {
  console.log(`\n\x1b[1m== ${text}\x1b[0m  (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

function sh(cmd, args, what) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\ndemo: ${what} failed (exit ${r.status ?? r.signal}); see the output above.`);
    process.exit(r.status || 1);
  }
}

const slayer = (args, what) => sh(process.execPath, [join(root, 'bin', 'slayer.js'), ...args], what);

banner('1/4 set-up and build');
if (process.env.SLAYER_SKIP_SETUP !== '1') sh('bash', ['scripts/setup.sh'], 'set-up');
sh(process.execPath, ['scripts/build.mjs'], 'build');

banner('2/4 the paper\'s plan: slayer explain examples/slayer-8b.slayer');
slayer(['explain', 'examples/slayer-8b.slayer'], 'explain');

banner('3/4 the whole flow on a tiny model on localhost: slayer run examples/demo.slayer --on localhost --tiny');
mkdirSync(join(out, 'runs'), { recursive: true });
const hostsFile = join(out, 'hosts.json');
writeFileSync(hostsFile, `${JSON.stringify({ localhost: { python: projectPython(root), workDir: join(out, 'runs') } }, null, 2)}\n`);
const before = new Set(readdirSync(join(out, 'runs')));
const sample = join(root, 'runner', 'slayer_runner', 'assets', 'sample.txt');
slayer([
  'run', 'examples/demo.slayer', '--on', 'localhost', '--tiny',
  '--phases', 'doctor,importance,surgery,train',
  '--data', `sample=${sample}`,
  '--max-steps', process.env.DEMO_MAX_STEPS ?? '300',
  '--hosts', hostsFile, '--store', join(out, 'store'),
], 'the demo run');

banner('4/4 results');
const fresh = readdirSync(join(out, 'runs'))
  .filter((d) => !before.has(d) && statSync(join(out, 'runs', d)).isDirectory())
  .sort((a, b) => statSync(join(out, 'runs', b)).mtimeMs - statSync(join(out, 'runs', a)).mtimeMs);
if (fresh.length === 0) {
  console.error('demo: the run directory was not found under demo-output/runs');
  process.exit(1);
}
const runDir = join(out, 'runs', fresh[0]);
const reportDir = join(out, 'report');
slayer(['report', runDir, '--out', reportDir], 'report');

if (existsSync('/usr/bin/chromium')) {
  // A PNG of the report page, for terminals and chats that do not show SVG.
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    await page.setContent(readFileSync(join(reportDir, 'report.html'), 'utf8'));
    await page.screenshot({ path: join(reportDir, 'report.png'), fullPage: true });
    console.log(`wrote ${join(reportDir, 'report.png')}`);
  } finally {
    await browser.close();
  }
}
console.log(`\nThe run directory (events.jsonl, runner.log, out/ with the expanded and trained checkpoint): ${runDir}`);
console.log(`Open ${join(reportDir, 'report.html')} in a browser, or the plan in VS Code with this extension.`);
banner('done');

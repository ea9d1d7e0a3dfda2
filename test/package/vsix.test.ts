// The extension page, from the real .vsix that `npm run package` builds: an icon, the README a user
// of the extension reads (its links resolve inside the package), settings in three groups, and a
// walkthrough from opening a plan to a finished demo run whose images and commands ship.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { packageVsix, type PackageReport } from '../vscode/harness/packageVsix';

const ROOT = join(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'slayer-vsix-'));
let pkg: PackageReport;
let zip: Buffer;

/** One entry of the .vsix (a zip), read from its central directory. */
function entry(name: string): Buffer | null {
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < zip.readUInt16LE(eocd + 10); i++) {
    const nameLen = zip.readUInt16LE(p + 28);
    const n = zip.toString('utf8', p + 46, p + 46 + nameLen);
    if (n.toLowerCase() === name.toLowerCase()) {
      const local = zip.readUInt32LE(p + 42);
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + zip.readUInt32LE(p + 20));
      return zip.readUInt16LE(p + 10) === 8 ? inflateRawSync(data) : data;
    }
    p += 46 + nameLen + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
  }
  return null;
}

interface Manifest {
  icon: string;
  contributes: {
    configuration: { title: string; properties: Record<string, unknown> }[];
    commands: { command: string }[];
    walkthroughs: { id: string; steps: { id: string; description: string; media: { image: string }; completionEvents: string[] }[] }[];
  };
}
let manifest: Manifest;

before(() => {
  pkg = packageVsix(join(tmp, 'slayer-studio.vsix'));
  zip = readFileSync(pkg.vsix);
  manifest = JSON.parse(entry('extension/package.json')!.toString('utf8')) as Manifest;
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the package script finds nothing wrong (links, icon, walkthrough media and commands included)', () => {
  assert.deepEqual(pkg.problems, []);
});

test('an icon: a 128×128 PNG that ships', () => {
  assert.equal(manifest.icon, 'images/icon.png');
  const png = entry('extension/images/icon.png')!;
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
  // The shipped icon is the committed one (drawn by scripts/make-icon.mjs).
  assert.deepEqual(png, readFileSync(join(ROOT, 'images', 'icon.png')));
});

test('the details page shows the README for users of the extension, and its links resolve inside the .vsix', () => {
  const readme = entry('extension/readme.md')!.toString('utf8');
  assert.equal(readme, readFileSync(join(ROOT, 'README.extension.md'), 'utf8'));
  assert.doesNotMatch(readme, /npm (test|ci|run)/, 'no developer instructions');
  const links = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/i.test(l));
  assert.ok(links.length >= 7, `links: ${links.join(', ')}`);
  for (const l of links) assert.ok(entry(`extension/${l}`), `${l} is in the .vsix`);
  assert.ok(pkg.entries.includes('extension/README.md') === false, 'the developer README is not shipped next to it');
});

test('settings in three groups: Plans, Runs, Hosts', () => {
  const groups = manifest.contributes.configuration;
  assert.deepEqual(groups.map((g) => g.title), ['SLayer: Plans', 'SLayer: Runs', 'SLayer: Hosts']);
  const keys = groups.flatMap((g) => Object.keys(g.properties));
  assert.equal(new Set(keys).size, keys.length, 'each setting in one group');
  assert.ok(groups[0]!.properties['slayer.languageServer.inlayHints']);
  assert.ok(groups[1]!.properties['slayer.runs.tinyModel']);
  assert.ok(groups[2]!.properties['slayer.hosts'] && groups[2]!.properties['slayer.sshConfigFile']);
});

test('a walkthrough from opening a plan to a finished demo run, its images and demo plan shipped', () => {
  const [w] = manifest.contributes.walkthroughs;
  assert.ok(w);
  const buttons = w.steps.map((s) => /\(command:([\w.]+)/.exec(s.description)?.[1]);
  assert.deepEqual(buttons, ['slayer.openDemoPlan', 'slayer.showLayerMap', 'workbench.action.openSettings', 'slayer.runExpansion', 'slayer.showTrainingCurves', 'slayer.showImportance']);
  const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
  for (const b of buttons) if (b?.startsWith('slayer.')) assert.ok(contributed.has(b), b);
  for (const s of w.steps) {
    assert.ok(entry(`extension/${s.media.image}`), `${s.media.image} ships`);
    assert.ok(s.completionEvents.length > 0, s.id);
  }
  // What "Open the Demo Plan" copies into the workspace ships too.
  assert.match(entry('extension/examples/demo.slayer')!.toString('utf8'), /^model\s+\.\/tiny-llama$/m);
  assert.ok(entry('extension/examples/tiny-llama/config.json'));
});

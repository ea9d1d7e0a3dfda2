// `slayer sweep` and `slayer sweep-table` (src/cli/commands/sweep.ts) spawned, for what needs no host:
// --help, usage errors, an unknown sweep. Dispatching a sweep is test/remote/sweep.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildCli, slayer } from '../spawnCli';

const store = mkdtempSync(join(tmpdir(), 'slayer-sweep-cli-'));
before(buildCli);
after(() => rmSync(store, { recursive: true, force: true }));

test('--help prints the usage of both commands and exits 0', () => {
  for (const cmd of ['sweep', 'sweep-table']) {
    const r = slayer(cmd, '--help');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /slayer sweep PLAN --host HOST/);
    assert.match(r.out, /slayer sweep-table/);
  }
});

test('usage errors exit 2 with the reason and the usage; an unknown sweep exits 1 naming the store', () => {
  const none = slayer('sweep-table', '--store', store);
  assert.equal(none.code, 2);
  assert.match(none.err, /sweep-table needs a SWEEP/);
  const format = slayer('sweep-table', 'placement', '--format', 'xlsx', '--store', store);
  assert.equal(format.code, 2);
  assert.match(format.err, /--format takes table, md, csv/);
  const unknown = slayer('sweep-table', 'placement', '--store', store);
  assert.equal(unknown.code, 1);
  assert.ok(unknown.err.includes(`no sweep "placement" in ${store}`), unknown.err);
});

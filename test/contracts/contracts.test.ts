// The cross-language contracts (contracts/): every shared fixture gets the verdict it records from
// the TypeScript validators, and the very same verdict — message included — from the runner's
// Python validators (spawned once with the project Python, test/contracts/verdicts.py). Never
// skipped: a missing Python fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitVerdict, memoryPerGpu, type Precision } from '../../src/core/accounting';
import { formatBytes } from '../../src/shared/format';
import { LAYER_MAP_SCHEMA, RUN_CONFIG_SCHEMA, RUN_FILES, RUN_OUT_FILES, RUNNER_EVENTS_SCHEMA } from '../../src/protocol/contracts';
import { EVAL_WHEN } from '../../src/protocol/evalPlan';
import { Schema } from '../../src/protocol/jsonSchema';
import { LayerMapError, validateLayerMap } from '../../src/protocol/layerMap';
import { RUN_PHASES, RunConfigError, validateRunConfig } from '../../src/protocol/runConfig';
import { EVAL_GROUPS, EventError, parseEventLine, validateImportanceFile } from '../../src/protocol/runnerEvents';
import { writeRunnerPackage } from '../../src/remote/runService';
import { PROJECT_PYTHON } from '../helpers/python';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'contracts', 'fixtures');
const readJson = (...p: string[]): unknown => JSON.parse(readFileSync(join(...p), 'utf8'));

type Key = string | number;
interface Case { name: string; from?: string; value?: unknown; set?: [Key[], unknown][]; delete?: Key[][]; error: string | null }

/** A case's value: a fixture file with some fields set or deleted (or a literal value). */
function materialize(dir: string, c: Case): unknown {
  if (c.from === undefined) return c.value;
  const v = readJson(FIXTURES, dir, c.from);
  const walk = (path: Key[]): [Record<Key, unknown>, Key] => {
    let o = v as Record<Key, unknown>;
    for (const k of path.slice(0, -1)) o = o[k] as Record<Key, unknown>;
    return [o, path[path.length - 1]!];
  };
  for (const [path, value] of c.set ?? []) {
    const [o, k] = walk(path);
    o[k] = value;
  }
  for (const path of c.delete ?? []) {
    const [o, k] = walk(path);
    delete o[k];
  }
  return v;
}

function verdict(check: (v: unknown) => unknown, errorType: new (...a: never[]) => Error, value: unknown): string | null {
  try {
    check(value);
    return null;
  } catch (e) {
    if (e instanceof errorType) return e.message;
    throw e;
  }
}

const CONTRACTS = {
  layermap: { check: validateLayerMap, error: LayerMapError },
  'run-config': { check: validateRunConfig, error: RunConfigError },
  importance: { check: validateImportanceFile, error: EventError },
} as const;
type ContractName = keyof typeof CONTRACTS;

const cases = Object.fromEntries(
  (Object.keys(CONTRACTS) as ContractName[]).map((name) => {
    const list = readJson(FIXTURES, name, 'cases.json') as Case[];
    return [name, list.map((c) => ({ ...c, value: materialize(name, c) }))];
  }),
) as Record<ContractName, (Case & { value: unknown })[]>;
const eventLines = (file: string): string[] => readFileSync(join(FIXTURES, 'events', file), 'utf8').split('\n').filter((l) => l.trim() !== '');
const events = [...eventLines('valid.jsonl'), ...eventLines('invalid.jsonl')];

interface MemoryCase { name: string; params: { total: number; trainable: number }; gpus: number; precision: Precision; deviceBytes: number; ddp: number; fsdp: number; verdict: string }
const memory = readJson(FIXTURES, 'memory-fit.json') as { cases: MemoryCase[]; text: { bytes: number; text: string }[] };

interface PythonAnswers {
  layermap: (string | null)[];
  'run-config': (string | null)[];
  importance: (string | null)[];
  events: (string | null)[];
  memory: { ddp: number; fsdp: number; verdict: string }[];
  text: string[];
  phases: string[];
  runFiles: { files: Record<string, string>; out: Record<string, string> };
  contractsFrom: string;
  unsupportedKeyword: string | null;
}

function askPython(runnerPath: string): PythonAnswers {
  const input = {
    layermap: cases.layermap.map((c) => c.value),
    'run-config': cases['run-config'].map((c) => c.value),
    importance: cases.importance.map((c) => c.value),
    events,
    memory: memory.cases,
    text: memory.text.map((t) => t.bytes),
  };
  const r = spawnSync(PROJECT_PYTHON, [join(__dirname, 'verdicts.py')], {
    input: JSON.stringify(input), encoding: 'utf8', timeout: 120_000,
    env: { ...process.env, PYTHONPATH: runnerPath, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(r.status, 0, `the runner's verdicts failed (${PROJECT_PYTHON}): ${r.error?.message ?? ''}${r.stderr}`);
  return JSON.parse(r.stdout) as PythonAnswers;
}

const python = askPython(join(ROOT, 'runner'));

for (const name of Object.keys(CONTRACTS) as ContractName[]) {
  test(`${name}: every shared case gets its recorded verdict in TypeScript and the same in the runner`, () => {
    const { check, error } = CONTRACTS[name];
    assert.ok(cases[name].some((c) => c.error === null) && cases[name].some((c) => c.error !== null), 'valid and invalid cases');
    cases[name].forEach((c, i) => {
      assert.equal(verdict(check, error, c.value), c.error, `TypeScript, ${name}: ${c.name}`);
      assert.equal(python[name][i], c.error, `Python, ${name}: ${c.name}`);
    });
  });
}

test('runner events: the valid examples pass and the invalid ones fail with the same message on both sides', () => {
  const valid = eventLines('valid.jsonl').length;
  const ts = events.map((l) => verdict((v) => parseEventLine(v as string), EventError, l));
  assert.deepEqual(ts.slice(0, valid), new Array(valid).fill(null));
  assert.ok(ts.slice(valid).every((m) => m !== null), 'every invalid line is refused');
  // JSON parse errors are worded by each language's parser: compare the verdict, not the words.
  const words = (m: string | null): string | null => (m?.startsWith('not JSON') ? 'not JSON' : m);
  assert.deepEqual(python.events.map(words), ts.map(words));
});

test('the fit rule: bytes per GPU and verdicts as recorded, on both sides; memory printed alike', () => {
  memory.cases.forEach((c, i) => {
    const est = { ddp: memoryPerGpu(c.params, c.gpus, 'ddp', c.precision), fsdp: memoryPerGpu(c.params, c.gpus, 'fsdp', c.precision) };
    const ts = { ddp: est.ddp.total, fsdp: est.fsdp.total, verdict: fitVerdict(est, c.deviceBytes) };
    assert.deepEqual(ts, { ddp: c.ddp, fsdp: c.fsdp, verdict: c.verdict }, `TypeScript: ${c.name}`);
    assert.deepEqual(python.memory[i], ts, `Python: ${c.name}`);
  });
  assert.deepEqual(memory.text.map((t) => formatBytes(t.bytes)), memory.text.map((t) => t.text));
  assert.deepEqual(python.text, memory.text.map((t) => t.text));
});

test('phases and run-directory names are one list on both sides', () => {
  assert.deepEqual(python.phases, [...RUN_PHASES]);
  assert.deepEqual(python.runFiles, { files: RUN_FILES, out: RUN_OUT_FILES });
  assert.equal(python.contractsFrom, join(ROOT, 'contracts'));
});

test('the eval section has one definition: the same in run.json and the LayerMap, groups and times as in the schemas', () => {
  // Local $ref only: the LayerMap and run.json schemas each carry $defs/evalPlan; they must not drift.
  assert.deepEqual(LAYER_MAP_SCHEMA.def('evalPlan'), RUN_CONFIG_SCHEMA.def('evalPlan'));
  assert.deepEqual(LAYER_MAP_SCHEMA.def('evalGroup'), RUN_CONFIG_SCHEMA.def('evalGroup'));
  assert.deepEqual(RUNNER_EVENTS_SCHEMA.def('evalGroup'), RUN_CONFIG_SCHEMA.def('evalGroup'));
  assert.deepEqual([...EVAL_GROUPS], RUN_CONFIG_SCHEMA.def('evalGroup').enum);
  const when = RUN_CONFIG_SCHEMA.def('evalPlan').properties as Record<string, { items: { enum: string[] } }>;
  assert.deepEqual([...EVAL_WHEN], when.when!.items.enum);
});

test('both interpreters refuse a schema keyword they do not implement', () => {
  assert.throws(() => new Schema({ type: 'object', propertyNames: { pattern: '^a' } }), /"propertyNames" is not supported/);
  assert.match(python.unsupportedKeyword ?? '', /"propertyNames" is not supported/);
});

test('the uploaded runner carries the schemas and validates with them away from the repository', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slayer-contracts-'));
  try {
    writeRunnerPackage(join(ROOT, 'runner', 'slayer_runner'), join(dir, 'slayer_runner'));
    cpSync(join(__dirname, 'verdicts.py'), join(dir, 'verdicts.py'));
    const away = askPython(dir);
    assert.equal(away.contractsFrom, join(dir, 'slayer_runner', 'contracts'));
    assert.deepEqual({ ...away, contractsFrom: '' }, { ...python, contractsFrom: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

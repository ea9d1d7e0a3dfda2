// `slayer suggest [PLAN] --importance FILE|--checkpoint DIR --budget N[blocks|params|depth]
// --delete N|auto[:T] --strategy S [--json]`: an expansion placed by evidence (docs/suggestions.md).
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import {
  parseBudget, parseDeletion, parseHfConfig, PROFILE_METRICS, profileFromImportance, profileFromSimilarity, STRATEGY_TEXT,
  SuggestError, SUGGEST_STRATEGIES, suggestExpansion, suggestionLines, lookupCatalogue, measuredOnPlanModel,
  type ImportanceProfile, type ProfileMetric, type SuggestBudget, type SuggestStrategy, type TrainItem,
} from '../../core';
import { MAX_RUN_JSON_BYTES } from '../../core/limits';
import { blockSimilarity, readCheckpoint, readRegularFileSync } from '../../modelfiles';
import type { ModelShape } from '../../protocol/layerMap';
import { validateImportanceFile } from '../../protocol/runnerEvents';
import { analyzePlanFile, readIfFile } from '../../modelfiles/planFile';
import type { CliCommand } from '../io';

const USAGE = `usage: slayer suggest [PLAN] (--importance FILE | --checkpoint DIR) [--budget N[blocks|params|depth]]
                      [--delete N|auto[:THRESHOLD]] [--strategy S] [--metric M] [--model REF] [--init copy|average] [--json]

  PLAN          a .slayer plan: its model, its train set, and (without --budget) its number of new blocks
  --importance  a run's importance.json (out/importance.json of a run directory)
  --checkpoint  a local checkpoint: the weight distance of adjacent blocks stands in for importance (no GPU)
  --budget      new blocks (8, 8blocks), trainable parameters (1.8Bparams), or the resulting depth (38depth)
  --delete      blocks to delete: a number (default 0), or auto[:THRESHOLD] — the deep blocks at most
                THRESHOLD (default 0.05) of the importance range; picked from the deepest quarter
  --strategy    ${SUGGEST_STRATEGIES.map((s) => `${s} (${STRATEGY_TEXT[s]})`).join(',\n                ')}; default slayer
  --metric      which measurement of importance.json: ${PROFILE_METRICS.join(', ')} (default removal_drop, else angular_all)
  --model       the model's shape: a catalogue id or a checkpoint directory (default: the plan's, the
                checkpoint's, or the model importance.json names)
  --json        print the suggestion as JSON

Blocks are shown 0-based, with the paper's 1-based numbers in parentheses.
`;

interface Args {
  plan: string | null;
  importance: string | null;
  checkpoint: string | null;
  budget: string | null;
  delete: string;
  strategy: string;
  metric: string | null;
  model: string | null;
  init: string | null;
  json: boolean;
}

const OPTIONS = ['--importance', '--checkpoint', '--budget', '--delete', '--strategy', '--metric', '--model', '--init'] as const;

function parseArgs(argv: string[]): Args | string {
  const a: Args = { plan: null, importance: null, checkpoint: null, budget: null, delete: '0', strategy: 'slayer', metric: null, model: null, init: null, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') { a.json = true; continue; }
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if ((OPTIONS as readonly string[]).includes(name)) {
      const v = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (v === undefined || v === '') return `${name} needs a value`;
      (a as unknown as Record<string, string>)[name.slice(2)] = v;
    } else if (arg.startsWith('-')) return `unknown option ${arg}`;
    else if (a.plan === null) a.plan = arg;
    else return `unexpected argument ${arg}`;
  }
  if ((a.importance === null) === (a.checkpoint === null)) return 'give one of --importance FILE or --checkpoint DIR';
  if (!(SUGGEST_STRATEGIES as readonly string[]).includes(a.strategy)) return `--strategy takes ${SUGGEST_STRATEGIES.join(', ')}`;
  if (a.metric !== null && !(PROFILE_METRICS as readonly string[]).includes(a.metric)) return `--metric takes ${PROFILE_METRICS.join(', ')}`;
  if (a.init !== null && a.init !== 'copy' && a.init !== 'average') return '--init takes copy or average';
  return a;
}

/** A catalogue id, or a directory holding config.json. */
function shapeOf(ref: string, baseDir: string): ModelShape | null {
  const hit = lookupCatalogue(ref);
  if (hit) return hit.shape;
  const dir = resolve(baseDir, ref.startsWith('~/') ? ref.replace('~', homedir()) : ref);
  const config = readIfFile(`${dir}/config.json`);
  return config === undefined ? null : parseHfConfig(config);
}

interface Evidence {
  profile: ImportanceProfile;
  /** Where the shape may come from when nothing else names the model. */
  modelRef: string | null;
  source: string;
}

async function evidence(a: Args, io: { err(t: string): void }): Promise<Evidence> {
  if (a.importance !== null) {
    const text = readRegularFileSync(resolve(a.importance), MAX_RUN_JSON_BYTES);
    if (text === undefined) throw new SuggestError(`${a.importance}: no such file`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new SuggestError(`${a.importance}: not JSON: ${(e as Error).message}`);
    }
    const file = validateImportanceFile(json);
    return { profile: profileFromImportance(file, (a.metric ?? undefined) as ProfileMetric | undefined), modelRef: file.model, source: a.importance };
  }
  const dir = resolve(a.checkpoint!);
  const report = await blockSimilarity(await readCheckpoint(dir));
  io.err(`weight similarity of ${dir}: ${(report.bytesRead / 1024 ** 2).toFixed(1)} MiB read in ${(report.elapsedMs / 1000).toFixed(2)} s\n`);
  return { profile: profileFromSimilarity(report.pairs.map((p) => p.blockCosine), dir), modelRef: dir, source: dir };
}

export const suggestCommand: CliCommand = {
  name: 'suggest',
  summary: 'suggest an expansion from measured importance: slayer suggest --importance FILE --budget 8',
  async run(argv, io) {
    if (argv.includes('--help')) {
      io.out(USAGE);
      return 0;
    }
    const a = parseArgs(argv);
    if (typeof a === 'string') {
      io.err(`slayer suggest: ${a}\n${USAGE}`);
      return 2;
    }
    try {
      let shape: ModelShape | null = null;
      let train: TrainItem[] | undefined;
      let planBudget: SuggestBudget | null = null;
      let planModel: { id: string; file: string } | null = null;
      if (a.plan !== null) {
        const { analysis } = analyzePlanFile(a.plan);
        if (analysis.model) planModel = { id: analysis.model.id, file: resolve(a.plan) };
        shape = analysis.model?.shape ?? null;
        train = analysis.train;
        if (analysis.layout?.newCount) planBudget = { kind: 'blocks', value: analysis.layout.newCount };
        if (!shape && a.model === null) throw new SuggestError(`${a.plan}: the plan's model has no known shape (${analysis.diagnostics.find((d) => d.severity === 'error')?.message ?? 'unresolved'}); name it with --model`);
      }
      if (a.model !== null) {
        shape = shapeOf(a.model, process.cwd());
        if (!shape) throw new SuggestError(`--model ${a.model}: not in the catalogue and no config.json there`);
      }
      const budgetText = a.budget;
      const budget = budgetText !== null ? parseBudget(budgetText) : planBudget;
      if (!budget) throw new SuggestError('give --budget (new blocks, Nparams or Ndepth), or a PLAN whose expansion has new blocks');
      const deletion = parseDeletion(a.delete);
      const ev = await evidence(a, io);
      if (!shape && ev.modelRef) {
        try {
          shape = shapeOf(ev.modelRef, a.importance ? dirname(resolve(a.importance)) : process.cwd());
        } catch {
          shape = null;
        }
      }
      if (!shape) throw new SuggestError(`the measured model "${ev.modelRef ?? '?'}" is neither in the catalogue nor a directory with config.json here; name the model with --model or give a PLAN`);
      if (planModel && ev.modelRef && !measuredOnPlanModel({ ref: ev.modelRef, numLayers: ev.profile.scores.length }, { id: planModel.id, numLayers: shape.numLayers, planFile: planModel.file })) {
        io.err(`slayer suggest: warning: the measurement is of ${ev.modelRef}, not of the plan's model ${planModel.id}\n`);
      }
      const s = suggestExpansion({ shape, profile: ev.profile, budget, deletion, strategy: a.strategy as SuggestStrategy, train, init: (a.init ?? undefined) as 'copy' | 'average' | undefined });
      if (a.json) {
        io.out(`${JSON.stringify({ ...s, source: ev.source, metric: ev.profile.metric }, null, 1)}\n`);
        return 0;
      }
      const out = [...suggestionLines(s), '', `from     ${ev.source} (${ev.profile.metric})`, ...s.reasons.map((r) => `why      ${r}`), ...s.warnings.map((w) => `warning  ${w}`)];
      if (a.plan !== null) out.push('', `apply    replace the expand line of ${a.plan} with: expand ${s.expand}`);
      io.out(`${out.join('\n')}\n`);
      return 0;
    } catch (e) {
      io.err(`slayer suggest: ${(e as Error).message}\n`);
      return 1;
    }
  },
};

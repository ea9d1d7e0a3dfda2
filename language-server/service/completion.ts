// Completion by position: keys at the start of a line (top-level or stage settings, and plan
// snippets), then values by key: catalogue ids and local checkpoint directories for `model`, the
// paper's expressions for `expand`, enumerations, hosts (~/.ssh/config and localhost) after
// `run on`, dataset names already used in the workspace after `data`.
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type Position, type Range } from 'vscode-languageserver';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CATALOGUE, EVAL_KEYS, EVAL_TASKS, FINAL_METHODS, TASK_OPTIONS, WHEN_WORDS, INIT_METHODS, PRECISIONS, RUN_OPTIONS, SCHEDULES, STAGE_KEYS, TOP_LEVEL_KEYS, TRAIN_WORDS, ZERO_TARGETS, NO_EXPANSION, SWEEP_OVERRIDES, type PlanAnalysis,
} from '@slayer/core';
import { EVAL_KEY_DOCS, EVAL_OPTION_DOCS, KEY_DOCS, VALUE_DOCS } from './keyDocs';
import { PAPER_EXPANSIONS, PLAN_SNIPPETS } from './snippets';

/** What completion needs from outside the document (see workspaceIndex.ts). */
export interface CompletionSources {
  hosts(): string[];
  datasets(): string[];
  listDirs(dir: string): { name: string; checkpoint: boolean }[];
  checkpointsUnder(dir: string): string[];
  readonly homeDir: string;
}


export function completions(a: PlanAnalysis, pos: Position, src: CompletionSources, file: string | undefined): CompletionItem[] {
  const text = a.lines.text;
  const lineStart = a.lines.lineStart(pos.line);
  const offset = a.lines.offsetAt(pos);
  const before = text.slice(lineStart, offset);
  if (before.includes('#')) return [];
  const indent = /^[ \t]*/.exec(before)![0].length;
  const words = before.slice(indent).split(/[ \t]+/);
  const current = words[words.length - 1] ?? '';
  const wordRange = (from: number): Range => ({ start: a.lines.positionAt(from), end: pos });
  const range = wordRange(offset - current.length);
  const item = (label: string, kind: CompletionItemKind, detail?: string, doc?: string, r: Range = range, sort?: string): CompletionItem => ({
    label, kind, textEdit: { range: r, newText: label }, ...(detail ? { detail } : {}),
    ...(doc ? { documentation: { kind: MarkupKind.Markdown, value: doc } } : {}), ...(sort ? { sortText: sort } : {}),
  });
  const header = indent > 0 ? a.ast.lines.slice(0, pos.line).reverse().find((l) => l.kind === 'stage' || l.kind === 'statement') : undefined;
  const inEval = header?.kind === 'stage' && header.settings[0]?.key.text === 'eval';
  const inSweep = header?.kind === 'stage' && header.settings[0]?.key.text === 'sweep';
  const inStage = header?.kind === 'stage' && !inEval && !inSweep;
  if (inEval) return evalCompletions(words, item);
  if (inSweep) return sweepCompletions(words, item);

  // The first word of a line: a key.
  if (words.length === 1) {
    if (inStage) return STAGE_KEYS.map((k) => item(k, CompletionItemKind.Property, 'stage setting', KEY_DOCS[k]));
    if (indent > 0) return [];
    // Keys the plan already has come last: a second one would be a duplicate (SL003).
    const givenOn = (k: string): number | undefined => (k === 'stage' ? undefined : a.ast.statements.find((s) => s.key.text === k && s.line !== pos.line)?.line);
    const out = TOP_LEVEL_KEYS.map((k, i) => {
      const line = givenOn(k);
      return line === undefined
        ? item(k, CompletionItemKind.Keyword, 'plan key', KEY_DOCS[k], range, `0${i}`)
        : item(k, CompletionItemKind.Keyword, `already given on line ${line + 1}`, KEY_DOCS[k], range, `5${i}`);
    });
    out.push(...['cpt', 'sft'].map((kind) => ({ ...item(`stage ${kind}`, CompletionItemKind.Snippet, `a ${kind.toUpperCase()} stage`, VALUE_DOCS[kind]), textEdit: { range, newText: `stage ${kind}\n  data     \${1:my-corpus}\n  ` }, insertTextFormat: InsertTextFormat.Snippet })));
    out.push(...PLAN_SNIPPETS.map((s, i) => ({
      label: s.label, kind: CompletionItemKind.Snippet, detail: s.detail, sortText: `~${i}`,
      textEdit: { range, newText: s.body }, insertTextFormat: InsertTextFormat.Snippet,
      documentation: { kind: MarkupKind.Markdown, value: `\`\`\`slayer\n${s.body.replace(/\$\{\d+:([^}]*)\}/g, '$1')}\`\`\`` },
    })));
    return out;
  }

  const key = words[0]!;
  if (inStage) return stageValue(words, item, src, current, offset, wordRange);
  switch (key) {
    case 'model':
      return words.length === 2 ? modelValues(current, offset, src, file, item, wordRange) : [];
    case 'expand': {
      const r = wordRange(lineStart + indent + before.slice(indent).indexOf(words[1]!));
      return PAPER_EXPANSIONS.map((e, i) => item(e.text, CompletionItemKind.Value, e.detail, undefined, r, String(i)));
    }
    case 'init':
      return words.length === 2 ? INIT_METHODS.map((v) => item(v, CompletionItemKind.EnumMember, undefined, VALUE_DOCS[v])) : [];
    case 'final':
      return words.length === 2 ? FINAL_METHODS.map((v) => item(v, CompletionItemKind.EnumMember, undefined, VALUE_DOCS[v])) : [];
    case 'zero':
    case 'train': {
      const all: readonly string[] = key === 'zero' ? ZERO_TARGETS : TRAIN_WORDS;
      const typed = words.slice(1).join(' ').split(/[ ,]+/);
      const part = current.slice(current.lastIndexOf(',') + 1);
      return all.filter((v) => !typed.slice(0, -1).includes(v)).map((v) => item(v, CompletionItemKind.EnumMember, undefined, VALUE_DOCS[v], wordRange(offset - part.length)));
    }
    case 'stage':
      return words.length <= 3 ? ['cpt', 'sft'].map((v) => item(v, CompletionItemKind.EnumMember, undefined, VALUE_DOCS[v])) : [];
    case 'run': {
      const prev = words[words.length - 2];
      if (prev === 'on') return [...new Set([...src.hosts(), 'localhost'])].map((h, i) => item(h, CompletionItemKind.Reference, h === 'localhost' ? 'this machine' : 'Host in ~/.ssh/config', undefined, range, String(i).padStart(4, '0')));
      if (prev && RUN_OPTIONS.includes(prev)) return [];
      return RUN_OPTIONS.filter((o) => !words.slice(1, -1).includes(o)).map((o) => item(o, CompletionItemKind.Property, undefined, KEY_DOCS[o]));
    }
    default:
      return [];
  }
}

/** Inside the eval section: its keys, catalogue tasks after domain/general, task options and values. */
function evalCompletions(words: string[], item: ItemFn): CompletionItem[] {
  const key = words[0]!;
  const prev = words[words.length - 2];
  if (words.length === 1) return EVAL_KEYS.map((k) => item(k, CompletionItemKind.Property, 'eval setting', EVAL_KEY_DOCS[k]));
  if (key === 'domain' || key === 'general') {
    if (words.length === 2) {
      // The group's own tasks first; the others are allowed (a domain can be "general" knowledge).
      return EVAL_TASKS.map((t) => item(t.name, CompletionItemKind.Value, `${t.paperName}: ${t.shots}-shot, ${t.metric} (${t.group})`, taskDoc(t),
        undefined, `${t.group === key ? 0 : 1}${t.name}`));
    }
    if (prev === 'chat-template') return ['off', 'on'].map((v) => item(v, CompletionItemKind.EnumMember));
    if (prev === 'metric') {
      const t = EVAL_TASKS.find((x) => x.name === words[1]);
      return [...new Set([t?.metric, 'acc', 'acc_norm', 'exact_match'].filter((m): m is string => !!m))].map((m, i) => item(m, CompletionItemKind.EnumMember, i === 0 && t ? 'published metric' : undefined, undefined, undefined, String(i)));
    }
    if (prev && (TASK_OPTIONS as readonly string[]).includes(prev)) return [];
    return TASK_OPTIONS.filter((o) => !words.slice(2, -1).includes(o)).map((o) => item(o, CompletionItemKind.Property, 'task option', EVAL_OPTION_DOCS[o]));
  }
  if (key === 'perplexity' && words.length === 2) return ['domain', 'general'].map((g) => item(g, CompletionItemKind.EnumMember, undefined, EVAL_KEY_DOCS[g]));
  if (key === 'chat-template' && words.length === 2) return ['off', 'on'].map((v) => item(v, CompletionItemKind.EnumMember));
  if (key === 'when') {
    const typed = words.slice(1).join(' ').split(/[ ,]+/);
    return Object.keys(WHEN_WORDS).filter((w) => w !== 'stages' && !typed.slice(0, -1).includes(w)).map((w) => item(w, CompletionItemKind.EnumMember));
  }
  return [];
}

export function taskDoc(t: (typeof EVAL_TASKS)[number]): string {
  const lines = [`**${t.title}** (\`${t.name}\`, ${t.group}) — ${t.about}.`, '', `Published protocol: ${t.shots}-shot, metric \`${t.metric}\`.`];
  if (t.unsafeCode) lines.push('', 'Runs the generated code on the host to check it.');
  if (t.published) lines.push('', `Published: LLaMA Pro 8.3B ${t.published.llamaPro.toFixed(2)}, LLaMA2-7B ${t.published.llama2.toFixed(2)}.`);
  return lines.join('\n');
}

type ItemFn = (label: string, kind: CompletionItemKind, detail?: string, doc?: string, r?: Range, sort?: string) => CompletionItem;

function stageValue(words: string[], item: ItemFn, src: CompletionSources, current: string, offset: number, wordRange: (from: number) => Range): CompletionItem[] {
  const prev = words[words.length - 2]!;
  const keys = STAGE_KEYS.map((k) => item(k, CompletionItemKind.Property, 'stage setting', KEY_DOCS[k]));
  if (words.slice(0, -1).includes('data')) {
    // `data` takes the rest of the line: complete the item after the last comma.
    const part = current.slice(current.lastIndexOf(',') + 1);
    if (part.includes(':')) return [];
    const onLine = new Set(words.join(' ').split(',').map((x) => x.replace(/^.*\bdata\s+/, '').replace(/:.*$/, '').trim()));
    return src.datasets().filter((n) => !onLine.has(n)).map((n) => item(n, CompletionItemKind.Value, 'used in this workspace', undefined, wordRange(offset - part.length)));
  }
  if (prev === 'precision') return PRECISIONS.map((v) => item(v, CompletionItemKind.EnumMember));
  if (prev === 'schedule' || (words[0] === 'lr' && words.length === 3)) return SCHEDULES.map((v) => item(v, CompletionItemKind.EnumMember));
  if ((STAGE_KEYS as readonly string[]).includes(prev)) return [];
  return keys;
}

function modelValues(current: string, offset: number, src: CompletionSources, file: string | undefined, item: ItemFn, wordRange: (from: number) => Range): CompletionItem[] {
  const base = file ? dirname(file) : undefined;
  // A path being typed: list the directory it is in.
  if (/^(\.{1,2}\/|\/|~\/)/.test(current)) {
    const slash = current.lastIndexOf('/');
    const typedDir = current.slice(0, slash + 1);
    const abs = typedDir.startsWith('~/') ? join(src.homeDir || homedir(), typedDir.slice(2)) : typedDir.startsWith('/') ? typedDir : base ? join(base, typedDir) : undefined;
    if (!abs) return [];
    const r = wordRange(offset - (current.length - slash - 1));
    return src.listDirs(abs).map((d) => item(d.name, d.checkpoint ? CompletionItemKind.Module : CompletionItemKind.Folder, d.checkpoint ? 'checkpoint (config.json)' : 'folder', undefined, r, d.checkpoint ? `0${d.name}` : `1${d.name}`));
  }
  const out: CompletionItem[] = [];
  for (const e of CATALOGUE) {
    const s = e.shape;
    const detail = `${s.numLayers} blocks, hidden ${s.hiddenSize} (catalogue)`;
    out.push(item(e.id, CompletionItemKind.Module, detail, undefined, undefined, `1${e.id}`));
    for (const alias of e.aliases ?? []) out.push(item(alias, CompletionItemKind.Module, `same shape as ${e.id}`, undefined, undefined, `2${alias}`));
  }
  if (base) for (const p of src.checkpointsUnder(base)) out.push(item(p, CompletionItemKind.Folder, 'local checkpoint (config.json)', undefined, undefined, `0${p}`));
  for (const h of src.hosts()) out.push(item(`${h}:/`, CompletionItemKind.Reference, 'a checkpoint on this host (host:/path)', undefined, undefined, `3${h}`));
  return out;
}

/** A sweep variant line: after its name the expansion (or `none`), then overrides and their values. */
function sweepCompletions(words: string[], item: (label: string, kind: CompletionItemKind, detail?: string, doc?: string) => CompletionItem): CompletionItem[] {
  if (words.length === 1) return [];
  const keys = SWEEP_OVERRIDES.map((k) => item(k, CompletionItemKind.Keyword, 'override in this variant', KEY_DOCS[k]));
  const lastKey = [...words.slice(1, -1)].reverse().find((w) => (SWEEP_OVERRIDES as readonly string[]).includes(w));
  if (lastKey === 'train') return [...TRAIN_WORDS.map((v) => item(v, CompletionItemKind.EnumMember, undefined, VALUE_DOCS[v])), ...keys];
  if (lastKey === 'init') return INIT_METHODS.map((v) => item(v, CompletionItemKind.EnumMember, undefined, VALUE_DOCS[v]));
  if (lastKey === 'final') return FINAL_METHODS.map((v) => item(v, CompletionItemKind.EnumMember, undefined, VALUE_DOCS[v]));
  if (lastKey === 'zero') return ZERO_TARGETS.map((v) => item(v, CompletionItemKind.EnumMember, undefined, VALUE_DOCS[v]));
  return words.length === 2 ? [item(NO_EXPANSION, CompletionItemKind.Value, 'no expansion: every original block kept', VALUE_DOCS.none), ...keys] : keys;
}

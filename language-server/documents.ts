// Open plan documents (incremental sync) and their analyses. An analysis is computed on demand
// and cached until the document's version or the model resolver's epoch changes, so diagnostics,
// hovers, hints and tokens of one version share one analyzePlan call.
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { analyzePlan, type PlanAnalysis } from '@slayer/core';
import type { ModelResolver } from './modelResolver';

export interface AnalyzedDocument {
  doc: TextDocument;
  analysis: PlanAnalysis;
  /** Time analyzePlan took for this analysis, in ms (0 when it came from the cache). */
  analyzeMs: number;
}

interface Entry {
  doc: TextDocument;
  cached: { version: number; epoch: number; analysis: PlanAnalysis } | null;
}

/** The file path of a `file:` URI, or undefined (untitled documents have no folder). */
export function uriToPath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

export class PlanDocuments {
  private entries = new Map<string, Entry>();

  constructor(private readonly resolver: ModelResolver, private readonly home = homedir()) {}

  open(uri: string, languageId: string, version: number, text: string): void {
    this.entries.set(uri, { doc: TextDocument.create(uri, languageId, version, text), cached: null });
  }

  change(uri: string, version: number, changes: TextDocumentContentChangeEvent[]): boolean {
    const e = this.entries.get(uri);
    if (!e) return false;
    e.doc = TextDocument.update(e.doc, changes, version);
    return true;
  }

  close(uri: string): void {
    this.entries.delete(uri);
  }

  uris(): string[] {
    return [...this.entries.keys()];
  }

  texts(): { uri: string; text: string }[] {
    return [...this.entries.values()].map((e) => ({ uri: e.doc.uri, text: e.doc.getText() }));
  }

  get(uri: string): AnalyzedDocument | undefined {
    const e = this.entries.get(uri);
    if (!e) return undefined;
    const epoch = this.resolver.epoch;
    if (e.cached && e.cached.version === e.doc.version && e.cached.epoch === epoch) return { doc: e.doc, analysis: e.cached.analysis, analyzeMs: 0 };
    const file = uriToPath(uri);
    const t0 = performance.now();
    const analysis = analyzePlan(e.doc.getText(), {
      fileName: file,
      baseDir: file ? dirname(file) : undefined,
      homeDir: this.home,
      readFile: this.resolver.readFile,
      remoteModel: this.resolver.remoteModel,
    });
    const analyzeMs = performance.now() - t0;
    // A remote fetch started during analysis bumps the epoch only when it settles.
    e.cached = { version: e.doc.version, epoch, analysis };
    return { doc: e.doc, analysis, analyzeMs };
  }
}

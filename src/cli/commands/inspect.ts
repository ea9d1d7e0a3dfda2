// `slayer inspect DIR|HOST:/PATH [--json] [--similarity]`: a checkpoint's shape from its safetensors
// headers (never the data), checked against its config.json; --similarity adds the cosine of each
// pair of adjacent blocks (streams every weight matrix once; local checkpoints only).
import { formatBytes, formatCount, withThousands } from '../../shared/format';
import { blockSimilarity, loadAndInspect, type CheckpointReport, type LayerReport, type SimilarityReport } from '../../modelfiles';
import { createCheckpointCache, parseRemoteModelRef } from '../../remote/remoteModelCache';
import { LocalTransport } from '../../remote/localTransport';
import { SshTransport } from '../../remote/sshTransport';
import type { CliCommand } from '../io';

const USAGE = `usage: slayer inspect DIR|HOST:/PATH [--json] [--similarity] [--ssh-config FILE]

  DIR            a checkpoint directory (config.json, *.safetensors, model.safetensors.index.json)
  HOST:/PATH     the same on an SSH host (one round trip; headers only); localhost:/PATH runs the scan locally
  --json         print the report (and similarity) as JSON
  --similarity   cosine similarity of adjacent blocks' weight matrices (reads every weight once)
`;

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function attention(l: LayerReport): string {
  const a = l.attention;
  if (!a) return '—';
  const heads = a.heads !== null && a.kvHeads !== null ? ` → ${a.heads}/${a.kvHeads} heads` : '';
  return `${a.qRows}/${a.kvRows}${heads}${a.groupSize && a.groupSize > 1 ? ` (GQA ${a.groupSize})` : ''}`;
}

/** Consecutive blocks with identical rows print once, as a range. */
function layerRows(layers: readonly LayerReport[]): string[][] {
  const rows: { from: number; to: number; cells: string[] }[] = [];
  for (const l of layers) {
    const cells = [withThousands(l.params), formatBytes(l.bytes), l.dtypes.join(','), attention(l), l.intermediate === null ? '—' : String(l.intermediate), l.biases.length ? l.biases.map((b) => b.replace(/^(self_attn|mlp)\./, '').replace(/\.bias$/, '')).join(',') : ''];
    const last = rows[rows.length - 1];
    if (last && last.to === l.index - 1 && last.cells.join('\0') === cells.join('\0')) last.to = l.index;
    else rows.push({ from: l.index, to: l.index, cells });
  }
  return rows.map((r) => [r.from === r.to ? String(r.from) : `${r.from}–${r.to}`, ...r.cells]);
}

export function inspectText(r: CheckpointReport): string {
  const out: string[] = [];
  out.push(`checkpoint  ${r.dir}  (${r.shards} shard${r.shards === 1 ? '' : 's'}, ${r.tensorCount} tensors, ${formatBytes(r.bytes)})`);
  const c = r.config;
  if (c) out.push(`config      ${c.modelType}, ${c.numLayers} blocks, hidden ${c.hiddenSize}, MLP ${c.intermediateSize}, heads ${c.numHeads}/${c.numKvHeads} kv (head_dim ${c.headDim}), vocab ${c.vocabSize}${c.tieEmbeddings ? ', tied embeddings' : ''}, ${c.dtype}`);
  if (r.tensorCount) {
    const vsConfig = r.configParams === null ? '' : r.configParams === r.params ? '  = config.json' : `  (config.json implies ${withThousands(r.configParams)})`;
    out.push(`params      ${withThousands(r.params)} (${formatCount(r.params)})${vsConfig}`);
    out.push(`dtypes      ${r.dtypes.map((d) => `${d.dtype}: ${d.tensors} tensors, ${formatBytes(d.bytes)}`).join('; ')}`);
    const t = (x: { name: string; shape: number[] } | null): string => (x ? `${x.name} [${x.shape.join(', ')}]` : 'none');
    out.push(`embeddings  ${t(r.embed)}`);
    out.push(`head        ${r.tiedEmbeddings ? 'tied to the embeddings (no lm_head.weight stored)' : t(r.head)}`);
    out.push(`final norm  ${t(r.norm)}`);
    if (r.layers.length) {
      out.push('');
      out.push(...table(['block', 'params', 'bytes', 'dtypes', 'q/kv rows → heads', 'MLP', 'biases'], layerRows(r.layers)));
    }
    if (r.other.length) out.push('', `other       ${r.other.map((x) => `${x.name} [${x.shape.join(', ')}]`).join(', ')}`);
  }
  if (r.diagnostics.length) {
    out.push('');
    for (const d of r.diagnostics) out.push(`${d.severity}: ${d.message} [${d.code}]`);
  }
  return `${out.join('\n')}\n`;
}

const shortName = (suffix: string): string => suffix.replace(/^(self_attn|mlp)\./, '').replace(/\.weight$/, '').replace(/_proj$/, '');

export function similarityText(s: SimilarityReport): string {
  const fmt = (x: number | null): string => (x === null ? '—' : x.toFixed(4));
  const out = ['', `similarity of adjacent blocks (cosine of corresponding weight matrices; ${formatBytes(s.bytesRead)} read in ${(s.elapsedMs / 1000).toFixed(2)} s)`];
  const names = s.pairs[0]?.tensors.map((t) => t.suffix) ?? [];
  const rows = s.pairs.map((p) => [`${p.a}–${p.b}`, fmt(p.blockCosine), fmt(p.meanCosine), ...p.tensors.map((t) => fmt(t.cosine))]);
  out.push(...table(['blocks', 'block', 'mean', ...names.map(shortName)], rows));
  for (const k of s.skipped) out.push(`skipped ${k.suffix}: ${k.reason}`);
  return `${out.join('\n')}\n`;
}

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: "a checkpoint's blocks, dtypes and attention layout from its headers, checked against config.json",
  async run(argv, io) {
    const sshAt = argv.indexOf('--ssh-config');
    const sshConfig = sshAt >= 0 ? argv[sshAt + 1] : undefined;
    const rest = sshAt < 0 ? argv : argv.filter((_, i) => i !== sshAt && i !== sshAt + 1);
    const targets = rest.filter((x) => !x.startsWith('-'));
    const unknown = rest.filter((x) => x.startsWith('-') && !['--json', '--similarity', '--help', '-h'].includes(x));
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(USAGE);
      return 0;
    }
    if (targets.length !== 1 || unknown.length || (sshAt >= 0 && !sshConfig)) {
      io.err(unknown.length ? `slayer inspect: unknown option ${unknown[0]}\n${USAGE}` : USAGE);
      return 2;
    }
    const json = argv.includes('--json');
    const target = targets[0]!;
    const remote = parseRemoteModelRef(target);
    let report: CheckpointReport;
    let similarity: SimilarityReport | null = null;
    let failed = false;
    if (remote) {
      if (argv.includes('--similarity')) {
        io.err('slayer inspect: --similarity reads every weight, so it runs on local checkpoints only\n');
        return 2;
      }
      const transport = remote.host === 'localhost' ? new LocalTransport() : new SshTransport(remote.host, { configFile: sshConfig });
      try {
        report = (await createCheckpointCache(() => transport).get(remote)).report;
      } catch (e) {
        io.err(`slayer inspect: ${(e as Error).message}\n`);
        return 1;
      } finally {
        await transport.close();
      }
      report = { ...report, dir: target };
    } else {
      const loaded = await loadAndInspect(target);
      report = loaded.report;
      if (argv.includes('--similarity') && loaded.checkpoint && report.layers.length > 1) {
        let shown = -1;
        try {
          similarity = await blockSimilarity(loaded.checkpoint, {
            onProgress: io.isTty ? (done, total) => {
              const pct = Math.floor((100 * done) / Math.max(1, total));
              if (pct !== shown) io.err(`\rsimilarity: ${(shown = pct)}% of ${formatBytes(total)}`);
            } : undefined,
          });
        } catch (e) {
          io.err(`${io.isTty ? '\r\x1b[K' : ''}slayer inspect: similarity not computed: ${(e as Error).message}\n`);
          failed = true;
        }
        if (io.isTty && similarity) io.err('\r\x1b[K');
      }
    }
    io.out(json ? `${JSON.stringify(similarity ? { report, similarity } : { report }, null, 2)}\n` : inspectText(report) + (similarity ? similarityText(similarity) : ''));
    return failed || report.diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
  },
};

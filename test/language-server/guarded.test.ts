// Every handler is wrapped (language-server/guarded.ts), proven over real JSON-RPC to the spawned
// server: a request that makes its handler throw is answered with an error naming the method, the
// failure is logged to the client's console with the stack, and the server keeps serving; a request
// the client cancels before the server ran it is answered RequestCancelled, not with a result.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCodes, HoverRequest, LogMessageNotification, LSPErrorCodes, ResponseError, type LogMessageParams } from 'vscode-languageserver-protocol';
import { buildOnce, makeFixture, PAPER_PLAN, type Fixture } from './fixture';
import { LspClient } from './lspClient';

let fx: Fixture;
before(() => {
  buildOnce();
  fx = makeFixture();
});
after(() => fx.cleanup());

const frame = (message: object): string => {
  const body = JSON.stringify({ jsonrpc: '2.0', ...message });
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

/** The JSON-RPC messages the server writes to stdout, read beside the client's own reader. */
function serverMessages(c: LspClient): { jsonrpc: string; id?: unknown; result?: unknown; error?: { code: number; message: string } }[] {
  const seen: ReturnType<typeof serverMessages> = [];
  let buffer = Buffer.alloc(0);
  c.proc.stdout!.on('data', (d: Buffer) => {
    buffer = Buffer.concat([buffer, d]);
    for (;;) {
      const headerEnd = buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, headerEnd).toString('ascii'))?.[1]);
      if (buffer.length < headerEnd + 4 + length) return;
      seen.push(JSON.parse(buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8')) as ReturnType<typeof serverMessages>[number]);
      buffer = buffer.subarray(headerEnd + 4 + length);
    }
  });
  return seen;
}

async function answerTo(seen: ReturnType<typeof serverMessages>, id: string, c: LspClient): Promise<ReturnType<typeof serverMessages>[number]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = seen.find((m) => m.id === id);
    if (r) return r;
    if (Date.now() > deadline) assert.fail(`no answer to ${id} in 15 s; stderr: ${c.stderr}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('handlers wrapped: exceptions answered and logged, cancellation honoured', () => {
  let c: LspClient;
  const logs: LogMessageParams[] = [];
  let seen: ReturnType<typeof serverMessages>;
  const uri = 'untitled:guarded.slayer';
  const hoverParams = { textDocument: { uri }, position: { line: 2, character: 9 } };

  before(async () => {
    c = await LspClient.start({ env: { HOME: fx.home }, settings: { 'slayer.languageServer': { debounceMs: 0 } } });
    c.conn.onNotification(LogMessageNotification.type, (p) => void logs.push(p));
    seen = serverMessages(c);
    const published = c.diagnostics(uri, 1);
    await c.open(uri, PAPER_PLAN);
    await published;
  });
  after(() => c.stop());

  test('a request whose handler throws is answered InternalError naming the method, logged with the stack; the server keeps serving', async () => {
    // A code action request without `context` (malformed, but a client can send it): the handler throws.
    const failed = await c.conn.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 2, character: 0 }, end: { line: 2, character: 5 } } })
      .then(() => assert.fail('the request was answered with a result'), (e: unknown) => e);
    assert.ok(failed instanceof ResponseError, String(failed));
    assert.equal(failed.code, ErrorCodes.InternalError);
    assert.match(failed.message, /^textDocument\/codeAction failed: Cannot read properties of undefined/);
    const deadline = Date.now() + 5000;
    while (!logs.some((l) => l.message.startsWith('textDocument/codeAction failed:')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const logged = logs.find((l) => l.message.startsWith('textDocument/codeAction failed:'));
    assert.ok(logged, `nothing logged: ${JSON.stringify(logs)}`);
    assert.match(logged.message, /\n\s+at /, 'the log line carries the stack');
    // Alive and correct afterwards, for this document and a well-formed request of the same method.
    const hover = await c.conn.sendRequest(HoverRequest.type, hoverParams);
    assert.match(JSON.stringify(hover), /block/);
    const actions = await c.conn.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 2, character: 0 }, end: { line: 2, character: 5 } }, context: { diagnostics: [] } });
    assert.ok(Array.isArray(actions));
    assert.equal(c.proc.exitCode, null);
  });

  test('a request cancelled before the server ran it is answered RequestCancelled; the same request uncancelled gets its result', async () => {
    // Request and $/cancelRequest in one write: both are read before the request is dispatched.
    c.proc.stdin!.write(frame({ id: 'hover-cancelled', method: HoverRequest.method, params: hoverParams }) + frame({ method: '$/cancelRequest', params: { id: 'hover-cancelled' } }));
    const cancelled = await answerTo(seen, 'hover-cancelled', c);
    assert.equal(cancelled.error?.code, LSPErrorCodes.RequestCancelled, JSON.stringify(cancelled).slice(0, 300));
    assert.equal(cancelled.result, undefined);
    assert.equal(cancelled.error?.message, 'textDocument/hover was cancelled');

    c.proc.stdin!.write(frame({ id: 'hover-kept', method: HoverRequest.method, params: hoverParams }));
    const kept = await answerTo(seen, 'hover-kept', c);
    assert.equal(kept.error, undefined, JSON.stringify(kept).slice(0, 300));
    assert.match(JSON.stringify(kept.result), /block/);
  });
});

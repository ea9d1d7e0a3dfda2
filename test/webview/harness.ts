// Loads the real webview bundles in real headless Chromium (Debian's, driven by playwright-core),
// inside exactly the HTML the extension generates (renderPanelHtml: CSP + nonce). A local HTTP
// server plays VS Code's resource origin (it serves dist/webview only, like localResourceRoots),
// and a stub `acquireVsCodeApi` records what the view posts and keeps its state across reloads.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { makeNonce, renderPanelHtml } from '../../src/extension/webviews/panelHtml';
import type { HostMessage, ViewKind, ViewMessage } from '../../src/messages/webviewMessages';
import { launchChromium } from '../vscode/harness/browser';

export const ROOT = join(__dirname, '..', '..');
const BUNDLES = join(ROOT, 'dist', 'webview');
export const ARTIFACTS = join(ROOT, 'test-artifacts');

export function bundlesBuilt(): boolean {
  return ['curvesView.js', 'importanceView.js', 'layerMapView.js'].every((f) => existsSync(join(BUNDLES, f)));
}

export interface Harness {
  browser: Browser;
  origin: string;
  open(view: ViewKind, opts?: { width?: number; height?: number; themeClass?: string }): Promise<ViewPage>;
  close(): Promise<void>;
}

export interface ViewPage {
  page: Page;
  /** What the view posted to the host, in order. */
  sent(): Promise<ViewMessage[]>;
  /** Posts a host message the way VS Code delivers it (a `message` event on window). */
  post(m: HostMessage): Promise<void>;
  /** CSP violations and console errors seen so far. */
  problems(): Promise<string[]>;
  waitForSent(pred: (m: ViewMessage) => boolean, what: string): Promise<ViewMessage>;
  screenshot(name: string): Promise<string>;
}

// Injected before any page script runs (over CDP, so the page's CSP does not apply to it — as
// VS Code injects acquireVsCodeApi itself).
const STUB = `(() => {
  // tsx compiles test code with keepNames; functions it hands to page.evaluate call __name.
  window.__name = (f) => f;
  window.__sent = [];
  window.__problems = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__problems.push('CSP: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
  });
  // Theme variables the way VS Code applies them: through the CSSOM on <html> (an inline style
  // attribute would itself be a CSP violation).
  const applyTheme = () => {
    for (const decl of (window.__theme || '').split(';')) {
      const i = decl.indexOf(':');
      if (i > 0) document.documentElement.style.setProperty(decl.slice(0, i), decl.slice(i + 1));
    }
  };
  if (document.documentElement) applyTheme();
  else new MutationObserver((_, obs) => { if (document.documentElement) { applyTheme(); obs.disconnect(); } }).observe(document, { childList: true });
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi called twice');
    acquired = true;
    return {
      postMessage: (m) => window.__sent.push(JSON.parse(JSON.stringify(m))),
      getState: () => { const s = sessionStorage.getItem('vscodeState'); return s === null ? undefined : JSON.parse(s); },
      setState: (s) => { sessionStorage.setItem('vscodeState', JSON.stringify(s)); return s; },
    };
  };
})();`;

// Dark-theme variables as VS Code sets them on <html> (a subset of what the views read).
const DARK = '--vscode-foreground:#cccccc;--vscode-editor-foreground:#d4d4d4;--vscode-editor-background:#1e1e1e;--vscode-descriptionForeground:#a0a0a0;--vscode-editorWidget-border:#454545;--vscode-font-family:sans-serif;--vscode-charts-blue:#3794ff;--vscode-charts-orange:#d18616;--vscode-charts-green:#89d185;--vscode-charts-red:#f14c4c;--vscode-charts-yellow:#cca700;--vscode-charts-purple:#b180d7;--vscode-button-background:#0e639c;--vscode-button-foreground:#ffffff;--vscode-focusBorder:#007fd4;--vscode-errorForeground:#f48771';

export async function startHarness(): Promise<Harness> {
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const html = pages.get(url.pathname);
    if (html !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }
    // Only the bundle folder, like localResourceRoots = [dist/webview].
    const file = normalize(join(BUNDLES, url.pathname));
    if (!file.startsWith(BUNDLES + '/') || !existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await launchChromium();
  let n = 0;
  return {
    browser,
    origin,
    async open(view, opts = {}) {
      const path = `/panel-${view}-${n++}.html`;
      let html = renderPanelHtml({ view, title: view, cspSource: origin, scriptUri: `${origin}/${view}View.js`, nonce: makeNonce() });
      // The theme as VS Code applies it: variables on <html>, a theme class on <body>.
      html = html.replace('<body ', `<body class="${opts.themeClass ?? 'vscode-dark'}" `);
      pages.set(path, html);
      const page = await browser.newPage({ viewport: { width: opts.width ?? 1100, height: opts.height ?? 800 } });
      await page.addInitScript(`window.__theme = ${JSON.stringify(DARK)};\n${STUB}`);
      const consoleErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) consoleErrors.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
      await page.goto(`${origin}${path}`);
      const vp: ViewPage = {
        page,
        sent: () => page.evaluate(() => (window as unknown as { __sent: ViewMessage[] }).__sent),
        post: (m) => page.evaluate((msg) => window.postMessage(msg, '*'), m),
        problems: async () => [...consoleErrors, ...(await page.evaluate(() => (window as unknown as { __problems: string[] }).__problems))],
        async waitForSent(pred, what) {
          for (let i = 0; i < 100; i++) {
            const hit = (await vp.sent()).find(pred);
            if (hit) return hit;
            await page.waitForTimeout(50);
          }
          throw new Error(`the view never sent ${what}; sent: ${JSON.stringify(await vp.sent()).slice(0, 500)}`);
        },
        async screenshot(name) {
          mkdirSync(ARTIFACTS, { recursive: true });
          const file = join(ARTIFACTS, name);
          await page.screenshot({ path: file, fullPage: true });
          return file;
        },
      };
      return vp;
    },
    async close() {
      await browser.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * One view page for the enclosing `describe`: the browser starts before its tests and closes
 * after them. The returned page is filled in by the `before` hook, so use it inside tests only.
 */
export function viewForSuite(view: ViewKind, opts?: Parameters<Harness['open']>[1]): ViewPage {
  const vp = {} as ViewPage;
  let h: Harness | undefined;
  before(async () => {
    h = await startHarness();
    Object.assign(vp, await h.open(view, opts));
  });
  after(async () => {
    await h?.close();
  });
  return vp;
}

/** Waits for the next animation frames (the views redraw once per frame). */
export async function frames(page: Page, count = 2): Promise<void> {
  await page.evaluate((c) => new Promise<void>((resolve) => {
    let left = c;
    const tick = (): void => {
      if (--left <= 0) resolve();
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }), count);
}

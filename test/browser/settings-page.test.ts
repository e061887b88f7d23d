// Drives the Settings page in Chromium against the real IPC handlers, a real LocalApiHost and a real sidecar process.

import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';
import { chromium } from 'playwright-core';

import { DEV_ACCOUNTS, startDevSignalingServer } from '../../fixtures/dev-signaling-server.js';
import { createLocalApiHandlers } from '../../main/electron/ipc.js';
import { LocalApiHost } from '../../main/host/local-api-host.js';
import { FileSettingsStore } from '../../main/host/settings-store.js';
import { ChildProcessLauncher } from '../../main/node/child-process-launcher.js';
import { MemoryLog } from '../fakes/electron.js';
import { copyDemoDatabase, makeTempDir } from '../helpers/fixture-db.js';

import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import type { DevSignalingServer } from '../../fixtures/dev-signaling-server.js';
import type { LocalApiHandlers } from '../../main/electron/ipc.js';
import type { SidecarLogLine } from '../../main/node/child-process-launcher.js';

const CHROMIUM_PATH = '/usr/bin/chromium';
const RENDERER_DIR = fileURLToPath(new URL('../../main/renderer/', import.meta.url));
const SCREENSHOT_PATH = fileURLToPath(new URL('../../../test-output/settings-page.png', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

const HANDLER_METHODS = new Set(['getSettings', 'updateSettings', 'getStatus', 'listTokens', 'revokeToken', 'revokeAllTokens']);

/** Serves GET requests for files in the compiled renderer folder on 127.0.0.1, on an ephemeral port. */
async function serveRenderer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    const filePath = normalize(join(RENDERER_DIR, pathname));
    if (request.method !== 'GET' || !filePath.startsWith(RENDERER_DIR.endsWith(sep) ? RENDERER_DIR : RENDERER_DIR + sep)) {
      response.writeHead(404).end();
      return;
    }
    readFile(filePath).then(
      (body) => {
        response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(filePath)] ?? 'application/octet-stream' });
        response.end(body);
      },
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Returns a TCP port that was free on 127.0.0.1 a moment ago, because the sidecar's settings reject port 0. */
async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Installs `window.localApi` in the page before its scripts run. Calls go
 * through one exposed binding to the handler functions. Pushes arrive through
 * `window.__localApiPush`, as ipcRenderer events would.
 */
async function installLocalApi(page: Page, handlers: LocalApiHandlers): Promise<void> {
  await page.exposeBinding('__localApiInvoke', async (_source, method: unknown, argument: unknown) => {
    if (typeof method !== 'string' || !HANDLER_METHODS.has(method)) throw new Error(`Unknown method ${String(method)}`);
    return handlers[method as keyof LocalApiHandlers & string](argument as never);
  });
  await page.addInitScript(() => {
    type Callback = (payload?: unknown) => void;
    const subscribers: Record<string, Set<Callback>> = { status: new Set(), tokensChanged: new Set() };
    const invoke = (window as unknown as { __localApiInvoke(method: string, argument?: unknown): Promise<unknown> })
      .__localApiInvoke;
    const subscribe = (channel: string, callback: Callback) => {
      subscribers[channel]?.add(callback);
      return () => void subscribers[channel]?.delete(callback);
    };
    Object.defineProperty(window, '__localApiPush', {
      value: (channel: string, payload?: unknown) => {
        for (const callback of subscribers[channel] ?? []) (channel === 'status' ? callback(payload) : callback());
      },
    });
    Object.defineProperty(window, 'localApi', {
      value: Object.freeze({
        getSettings: () => invoke('getSettings'),
        updateSettings: (change: unknown) => invoke('updateSettings', change),
        getStatus: () => invoke('getStatus'),
        listTokens: () => invoke('listTokens'),
        revokeToken: (tokenId: unknown) => invoke('revokeToken', tokenId),
        revokeAllTokens: () => invoke('revokeAllTokens'),
        onStatus: (callback: Callback) => subscribe('status', callback),
        onTokensChanged: (callback: Callback) => subscribe('tokensChanged', callback),
      }),
    });
  });
  const push = (channel: string, payload?: unknown) => {
    page
      .evaluate(([name, value]) => (window as unknown as { __localApiPush(c: unknown, p: unknown): void }).__localApiPush(name, value), [
        channel,
        payload,
      ] as const)
      .catch(() => undefined);
  };
  handlers.onStatus((status) => push('status', status));
  handlers.onTokensChanged(() => push('tokensChanged'));
}

async function statusText(page: Page): Promise<string> {
  return (await page.locator('#status').textContent()) ?? '';
}

async function waitForStatus(page: Page, expected: string): Promise<void> {
  await page.waitForFunction((text) => document.getElementById('status')?.textContent?.includes(text) === true, expected, {
    timeout: 15_000,
  });
}

describe('Settings page in Chromium', function () {
  this.timeout(60_000);

  let browser: Browser | null = null;
  let page: Page;
  let host: LocalApiHost | null = null;
  let signaling: DevSignalingServer | null = null;
  let renderer: { origin: string; close(): Promise<void> } | null = null;
  const sidecarLines: SidecarLogLine[] = [];
  const pageErrors: string[] = [];
  const blockedRequests: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`${CHROMIUM_PATH} is missing; install Debian's chromium package (scripts/setup.sh does).`);
    }
    if (!existsSync(join(RENDERER_DIR, 'settings.html'))) {
      throw new Error('dist/main/renderer/settings.html is missing; run npm run build, which copies the page assets.');
    }

    const databasePath = await copyDemoDatabase();
    const settingsDir = await makeTempDir('metoyou-settings-');
    signaling = await startDevSignalingServer({ log: () => undefined });
    host = new LocalApiHost({
      launcher: new ChildProcessLauncher({ onLogLine: (entry) => sidecarLines.push(entry) }),
      databasePath,
      settingsStore: new FileSettingsStore(join(settingsDir, 'local-api-settings.json'), new MemoryLog()),
      log: new MemoryLog(),
    });
    await host.start();
    renderer = await serveRenderer();

    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 900, height: 1400 } });
    // Only the page's own server may be reached; anything else is aborted and recorded.
    const allowedOrigin = renderer.origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === allowedOrigin) return route.continue();
      blockedRequests.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await installLocalApi(page, createLocalApiHandlers(host));
    await page.goto(`${renderer.origin}/settings.html`);
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      await host?.stop();
      await signaling?.close();
      await renderer?.close();
    }
  });

  it('shows the stopped state first', async () => {
    await waitForStatus(page, 'Stopped');

    expect(await page.locator('#enabled').isChecked()).to.equal(false);
    expect(await page.locator('#port').inputValue()).to.equal('17878');
  });

  it('labels every control', async () => {
    const unlabeled = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('input, button, a[href], select, textarea')]
        .filter((element) => {
          const labels = (element as HTMLInputElement).labels;
          const hasLabel = labels !== undefined && labels !== null && labels.length > 0;
          const text = element.textContent?.trim() ?? '';
          return !hasLabel && !element.getAttribute('aria-label') && !element.getAttribute('aria-labelledby') && text === '';
        })
        .map((element) => element.outerHTML),
    );

    expect(unlabeled).to.deep.equal([]);
    expect(await page.locator('#status').getAttribute('aria-live')).to.equal('polite');
  });

  it('rejects an out-of-range port', async () => {
    await page.locator('#port').fill('80');
    await page.locator('#port').press('Enter');

    await page.locator('#port-error').waitFor({ state: 'visible' });
    expect(await page.locator('#port-error').textContent()).to.include('Port must be between 1024 and 65535.');
    expect(await page.locator('#port').getAttribute('aria-invalid')).to.equal('true');
    expect(host?.getSettings().port).to.equal(17878);
  });

  it('starts listening on the chosen port', async () => {
    const port = await freeLoopbackPort();
    await page.locator('#port').fill(String(port));
    await page.locator('#port-apply').click();
    await page.waitForFunction(() => document.getElementById('port-error')?.hidden === true);

    // Space on the focused checkbox toggles it, which is how keyboard users turn the API on.
    await page.locator('#enabled').focus();
    await page.keyboard.press('Space');
    await waitForStatus(page, `http://127.0.0.1:${port}`);

    expect(await statusText(page)).to.include('Listening');
    expect(await page.locator('#status').getAttribute('data-state')).to.equal('listening');
    expect(host?.getStatus().baseUrl).to.equal(`http://127.0.0.1:${port}`);
    expect(await page.locator('#lan-address-list').textContent()).to.include(`127.0.0.1:${port}`);
  });

  it('shows the error for a bad server URL', async () => {
    await page.locator('#allowedServers-input').fill('not a url');
    await page.locator('#allowedServers-add').click();

    await page.locator('#allowedServers-error').waitFor({ state: 'visible' });
    expect(await page.locator('#allowedServers-error').textContent()).to.include('"not a url" is not a valid URL.');
    expect(await page.locator('#allowedServers-input').getAttribute('aria-invalid')).to.equal('true');
    expect(await page.locator('#allowedServers-input').inputValue(), 'input kept for correction').to.equal('not a url');
    expect(host?.getSettings().allowedServers).to.deep.equal([]);
  });

  it('adds a valid server URL', async () => {
    const url = signaling?.url ?? '';
    await page.locator('#allowedServers-input').fill(`${url}/`);
    await page.locator('#allowedServers-input').press('Enter');

    await page.locator('#allowedServers-list li span').first().waitFor({ state: 'visible' });
    expect(await page.locator('#allowedServers-error').isHidden()).to.equal(true);
    expect(await page.locator('#allowedServers-list li span').allTextContents()).to.deep.equal([url]);
    expect(await page.locator('#allowedServers-input').inputValue()).to.equal('');
    expect(await page.locator('#allowedServers-input').getAttribute('aria-invalid')).to.equal(null);
    expect(host?.getSettings().allowedServers).to.deep.equal([url]);
  });

  it('follows a port change live', async () => {
    const port = await freeLoopbackPort();
    await page.locator('#port').fill(String(port));
    await page.locator('#port').press('Enter');

    await waitForStatus(page, `http://127.0.0.1:${port}`);
    expect(host?.getStatus().port).to.equal(port);
  });

  it('links the enabled docs', async () => {
    await page.locator('#scalarDocs').check();
    await page.locator('#scalarDocs-link').waitFor({ state: 'visible' });

    const baseUrl = host?.getStatus().baseUrl;
    expect(await page.locator('#scalarDocs-link').getAttribute('href')).to.equal(`${baseUrl}/docs`);
    expect(await page.locator('#docusaurusDocs-link').isHidden()).to.equal(true);
    expect(await page.locator('#lan-warning').isVisible()).to.equal(true);
  });

  it('lists a token after a login', async () => {
    const account = DEV_ACCOUNTS[0];
    const baseUrl = host?.getStatus().baseUrl ?? '';
    const response = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: account?.username, password: account?.password, serverUrl: signaling?.url }),
    });
    expect(response.status, await response.clone().text()).to.equal(200);

    // NOTE: the sidecar sends tokensChanged for revokes but not for logins, so the list is refreshed by hand.
    await page.locator('#tokens-refresh').click();
    await page.locator('#tokens-body tr').first().waitFor({ state: 'visible' });
    const cells = await page.locator('#tokens-body tr').first().locator('td').allTextContents();
    expect(cells[0]).to.equal('alice');
    expect(cells[1]).to.equal(signaling?.url);
    expect(await page.locator('#tokens-message').textContent()).to.equal('1 active token.');

    await mkdir(join(SCREENSHOT_PATH, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT_PATH, fullPage: true });
  });

  it('revokes a token from the page', async () => {
    await page.getByRole('button', { name: /Revoke the token of alice/ }).click();

    await page.waitForFunction(() => document.querySelectorAll('#tokens-body tr').length === 0);
    expect(await page.locator('#tokens-message').textContent()).to.equal('No active tokens.');
    expect(await host?.listTokens()).to.deep.equal([]);
  });

  it('shows stopped after turning off', async () => {
    await page.locator('#enabled').uncheck();

    await waitForStatus(page, 'Stopped');
    expect(await page.locator('#scalarDocs-link').isHidden()).to.equal(true);
  });

  it('kept requests on the page server', () => {
    expect(blockedRequests).to.deep.equal([]);
    expect(pageErrors).to.deep.equal([]);
  });
});

// Loads /docs (Scalar) and /docusaurus (the built site) from a real sidecar process in Chromium, offline.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';
import { chromium } from 'playwright-core';

import { DEV_ACCOUNTS, startDevSignalingServer } from '../../fixtures/dev-signaling-server.js';
import { LocalApiHost } from '../../main/host/local-api-host.js';
import { MemorySettingsStore } from '../../main/host/settings-store.js';
import { ChildProcessLauncher } from '../../main/node/child-process-launcher.js';
import { MemoryLog } from '../fakes/electron.js';
import { copyDemoDatabase } from '../helpers/fixture-db.js';

import type { AddressInfo } from 'node:net';
import type { OpenAPIObject } from 'openapi3-ts/oas31';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DevSignalingServer } from '../../fixtures/dev-signaling-server.js';
import type { SidecarLogLine } from '../../main/node/child-process-launcher.js';

const CHROMIUM_PATH = '/usr/bin/chromium';
const DOCUSAURUS_INDEX = fileURLToPath(new URL('../../../docs-site/build/index.html', import.meta.url));
const OUTPUT_DIR = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

interface OperationSummary {
  method: string;
  path: string;
  summary: string;
}

/** Returns a TCP port that was free on 127.0.0.1 a moment ago; the sidecar's settings reject port 0. */
async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function operationsOf(document: OpenAPIObject): OperationSummary[] {
  const operations: OperationSummary[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation) operations.push({ method, path, summary: operation.summary ?? '' });
    }
  }
  return operations;
}

async function waitForListening(host: LocalApiHost): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const status = host.getStatus();
    if (status.state === 'listening' && status.baseUrl) return status.baseUrl;
    if (status.state === 'error') throw new Error(`The sidecar failed to start: ${status.message}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`The sidecar did not start listening within 15 s; last status: ${JSON.stringify(host.getStatus())}`);
}

describe('documentation pages in Chromium', function () {
  this.timeout(90_000);

  let browser: Browser | null = null;
  let context: BrowserContext;
  let page: Page;
  let host: LocalApiHost | null = null;
  let signaling: DevSignalingServer | null = null;
  let baseUrl: string;
  let operations: OperationSummary[];
  const sidecarLines: SidecarLogLine[] = [];
  const offHostRequests: string[] = [];
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`${CHROMIUM_PATH} is missing; install Debian's chromium package (scripts/setup.sh does).`);
    }
    if (!existsSync(DOCUSAURUS_INDEX)) {
      throw new Error(
        `${DOCUSAURUS_INDEX} is missing; run "npm ci --prefix docs-site" once, then "npm run build" and "npm run docs:build".`,
      );
    }
    await mkdir(OUTPUT_DIR, { recursive: true });

    signaling = await startDevSignalingServer({ log: () => undefined });
    host = new LocalApiHost({
      launcher: new ChildProcessLauncher({ onLogLine: (entry) => sidecarLines.push(entry) }),
      databasePath: await copyDemoDatabase(),
      settingsStore: new MemorySettingsStore({
        enabled: true,
        port: await freeLoopbackPort(),
        allowedServers: [signaling.url],
        scalarDocs: true,
        docusaurusDocs: true,
      }),
      log: new MemoryLog(),
    });
    await host.start();
    baseUrl = await waitForListening(host);

    const response = await fetch(`${baseUrl}/api/openapi.json`);
    expect(response.status).to.equal(200);
    operations = operationsOf((await response.json()) as OpenAPIObject);

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
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    // The pages must work offline: every request to a host other than 127.0.0.1 is recorded and aborted.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).hostname === '127.0.0.1') return route.continue();
      offHostRequests.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
      else pageErrors.push(message.text());
    });
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      await host?.stop();
      await signaling?.close();
    }
  });

  it('Scalar lists every operation', async () => {
    expect(operations.length).to.be.greaterThan(10);
    const response = await page.goto(`${baseUrl}/docs`);
    expect(response?.status()).to.equal(200);
    expect(response?.headers()['content-security-policy']).to.include("default-src 'none'");

    const firstSummary = operations[0]?.summary ?? '';
    await page.getByText(firstSummary).first().waitFor({ timeout: 20_000 });
    // Scalar renders each tag's operations in the sidebar and in the content; the text of both is checked.
    await page.waitForFunction(
      (summaries) => summaries.every((summary) => document.body.innerText.includes(summary)),
      operations.map((operation) => operation.summary),
      { timeout: 20_000 },
    );
    const text = await page.evaluate(() => document.body.innerText);
    for (const operation of operations) {
      expect(text, `${operation.method.toUpperCase()} ${operation.path}`).to.include(operation.summary);
    }
    // Font loads start only once text is laid out, so wait for them before the offline check.
    await page.evaluate(async () => {
      await document.fonts.ready;
    });
    await page.screenshot({ path: `${OUTPUT_DIR}docs-scalar.png` });
    expect(cspViolations).to.deep.equal([]);
  });

  it('Scalar page can log in', async () => {
    // "Test Request" in Scalar sends same-origin requests like this one; the Origin guard must accept them.
    const alice = DEV_ACCOUNTS.find((account) => account.username === 'alice');
    expect(alice).to.not.equal(undefined);
    const result = await page.evaluate(
      async ({ username, password, serverUrl }) => {
        const response = await fetch('/api/auth/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password, serverUrl }),
        });
        return { status: response.status, body: (await response.json()) as { token?: string; code?: string } };
      },
      { username: alice!.username, password: alice!.password, serverUrl: signaling!.url },
    );
    expect(result.body.code).to.equal(undefined);
    expect(result.status).to.equal(200);
    expect(result.body.token).to.match(/^local_/);
  });

  it('Local API page renders with its sidebar', async () => {
    const response = await page.goto(`${baseUrl}/docusaurus/docs/reference`);
    expect(response?.status()).to.equal(200);
    await page.locator('h1', { hasText: 'Local API' }).waitFor();

    const sidebar = page.locator('nav[aria-label="Docs sidebar"]');
    await sidebar.waitFor();
    const sidebarText = await sidebar.innerText();
    for (const label of ['Overview', 'Enabling the API', 'Authentication', 'Local API', 'Error codes', 'Scripting examples', 'Security notes']) {
      expect(sidebarText, label).to.include(label);
    }
    expect(await sidebar.locator('a.menu__link--active').innerText()).to.equal('Local API');

    const article = await page.locator('article').innerText();
    for (const operation of operations) {
      expect(article, `${operation.method.toUpperCase()} ${operation.path}`).to.include(operation.summary);
      expect(article, operation.path).to.include(operation.path);
    }
    await page.screenshot({ path: `${OUTPUT_DIR}docs-docusaurus.png` });
  });

  it('sidebar navigates in the browser', async () => {
    await page.locator('nav[aria-label="Docs sidebar"] a', { hasText: 'Error codes' }).click();
    await page.waitForURL(`${baseUrl}/docusaurus/docs/errors`);
    await page.locator('h1', { hasText: 'Error codes' }).waitFor();
    expect(await page.locator('#room-not-found').count()).to.equal(1);
  });

  it('problem type opens its error section', async () => {
    const response = await fetch(`${baseUrl}/api/profile`);
    const problem = (await response.json()) as { type: string; code: string };
    expect(problem.code).to.equal('AUTH_REQUIRED');

    await page.goto(new URL(problem.type, baseUrl).href);
    const heading = page.locator('#auth-required');
    await heading.waitFor();
    expect(await heading.innerText()).to.include('AUTH_REQUIRED');
  });

  it('toggle off answers DOCS_DISABLED', async () => {
    await host!.updateSettings({ scalarDocs: false });
    const response = await page.goto(`${baseUrl}/docs`);
    expect(response?.status()).to.equal(404);
    expect(JSON.parse(await page.locator('body').innerText()).code).to.equal('DOCS_DISABLED');
    const site = await page.goto(`${baseUrl}/docusaurus/`);
    expect(site?.status()).to.equal(200);
  });

  it('no request left 127.0.0.1', () => {
    expect(offHostRequests).to.deep.equal([]);
    expect(cspViolations).to.deep.equal([]);
    expect(pageErrors.filter((message) => !message.includes('404'))).to.deep.equal([]);
  });
});

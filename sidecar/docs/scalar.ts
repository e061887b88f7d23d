// The Scalar API reference page at /docs, served from the installed @scalar/api-reference bundle only.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import send from 'koa-send';

import type { Context } from 'koa';

import { ApiError } from '../errors.js';
import {
  IMMUTABLE_CACHE_CONTROL,
  REVALIDATE_CACHE_CONTROL,
  answerNotModifiedIfFresh,
  setSecurityHeaders,
} from './headers.js';

export const OPENAPI_DOCUMENT_PATH = '/api/openapi.json';
export const SCALAR_BUNDLE_PATH = '/docs/scalar.js';
export const SCALAR_INIT_PATH = '/docs/init.js';

/**
 * Scalar options that keep the page offline, checked against the option
 * schema in @scalar/api-reference 1.46.4. Fonts from fonts.scalar.com, the
 * AI agent that calls api.scalar.com and the developer toolbar are all on by
 * default for localhost pages, so each is turned off here. The button that
 * opens client.scalar.com and telemetry are off too. `proxyUrl` stays unset
 * so that "Test Request" calls this server directly, which the CSP allows as
 * `connect-src 'self'`.
 */
export const SCALAR_CONFIGURATION = {
  url: OPENAPI_DOCUMENT_PATH,
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  showDeveloperTools: 'never',
  hideClientButton: true,
  documentDownloadType: 'json',
  // The API has few operations, so every tag starts open and each operation is visible without clicks.
  defaultOpenAllTags: true,
  persistAuth: false,
  theme: 'default',
  metaData: { title: 'MetoYou Local API reference' },
} as const;

const INIT_SCRIPT = `// Mounts the Scalar API reference; kept out of the HTML so the CSP needs no inline script.
window.Scalar.createApiReference('#app', ${JSON.stringify(SCALAR_CONFIGURATION)});
`;

const INIT_SCRIPT_VERSION = createHash('sha256').update(INIT_SCRIPT).digest('hex').slice(0, 16);

/** Returns the standalone browser build inside the installed @scalar/api-reference package. */
export function defaultScalarBundlePath(): string {
  const packageEntry = fileURLToPath(import.meta.resolve('@scalar/api-reference'));
  return join(dirname(packageEntry), 'browser', 'standalone.js');
}

interface BundleVersion {
  path: string;
  size: number;
  mtimeMs: number;
  /** First 16 hex digits of the SHA-256 of the file, used as the cache-busting `v` query value. */
  version: string;
}

/** Serves the Scalar page, its init script and the Scalar bundle. */
export class ScalarDocs {
  #cachedVersion: BundleVersion | undefined;

  constructor(private readonly bundlePath: string) {}

  /** Handles a GET or HEAD under /docs; `path` is the raw request path. */
  async handle(ctx: Context, path: string): Promise<void> {
    if (path === '/docs' || path === '/docs/') {
      await this.#sendPage(ctx);
    } else if (path === SCALAR_INIT_PATH) {
      this.#sendInitScript(ctx);
    } else if (path === SCALAR_BUNDLE_PATH) {
      await this.#sendBundle(ctx);
    } else {
      throw new ApiError('ROUTE_NOT_FOUND', `No documentation file at ${path}.`);
    }
  }

  async #sendPage(ctx: Context): Promise<void> {
    const bundle = await this.#bundleVersion();
    // Scalar 1.46.4 injects its CSS as <style> elements at run time; without this the page renders unstyled.
    setSecurityHeaders(ctx, { inlineStyles: true });
    ctx.set('Cache-Control', REVALIDATE_CACHE_CONTROL);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = renderPage(bundle.version, INIT_SCRIPT_VERSION);
  }

  #sendInitScript(ctx: Context): void {
    setSecurityHeaders(ctx);
    ctx.set('Cache-Control', cacheControlFor(ctx, INIT_SCRIPT_VERSION));
    ctx.set('ETag', `"${INIT_SCRIPT_VERSION}"`);
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = INIT_SCRIPT;
    answerNotModifiedIfFresh(ctx);
  }

  async #sendBundle(ctx: Context): Promise<void> {
    const bundle = await this.#bundleVersion();
    setSecurityHeaders(ctx);
    ctx.set('Cache-Control', cacheControlFor(ctx, bundle.version));
    ctx.set('ETag', `"${bundle.version}"`);
    ctx.type = 'text/javascript; charset=utf-8';
    await send(ctx, basename(bundle.path), { root: dirname(bundle.path), gzip: false, brotli: false });
    answerNotModifiedIfFresh(ctx);
  }

  /** Hashes the bundle once, and again only when its size or modification time changes. */
  async #bundleVersion(): Promise<BundleVersion> {
    let stats;
    try {
      stats = await stat(this.bundlePath);
    } catch {
      throw new ApiError(
        'ROUTE_NOT_FOUND',
        'The Scalar bundle of @scalar/api-reference is not installed; run npm ci in the application folder.',
      );
    }
    const cached = this.#cachedVersion;
    if (cached && cached.size === stats.size && cached.mtimeMs === stats.mtimeMs) return cached;

    const hash = createHash('sha256');
    for await (const chunk of createReadStream(this.bundlePath)) hash.update(chunk as Buffer);
    this.#cachedVersion = {
      path: this.bundlePath,
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      version: hash.digest('hex').slice(0, 16),
    };
    return this.#cachedVersion;
  }
}

/** A URL carrying the current version may be cached for good; any other must be revalidated. */
function cacheControlFor(ctx: Context, version: string): string {
  return ctx.query.v === version ? IMMUTABLE_CACHE_CONTROL : REVALIDATE_CACHE_CONTROL;
}

function renderPage(bundleVersion: string, initVersion: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>MetoYou Local API reference</title>
    <link rel="icon" href="data:,">
  </head>
  <body>
    <noscript>This page needs JavaScript. The OpenAPI document is at <a href="${OPENAPI_DOCUMENT_PATH}">${OPENAPI_DOCUMENT_PATH}</a>.</noscript>
    <div id="app"></div>
    <script src="${SCALAR_BUNDLE_PATH}?v=${bundleVersion}"></script>
    <script src="${SCALAR_INIT_PATH}?v=${initVersion}"></script>
  </body>
</html>
`;
}

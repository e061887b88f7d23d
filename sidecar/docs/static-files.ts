// Serves the Docusaurus build folder, keeping every resolved file inside it.

import { existsSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import send from 'koa-send';

import type { Context } from 'koa';
import type { Stats } from 'node:fs';

import { ApiError } from '../errors.js';
import {
  IMMUTABLE_CACHE_CONTROL,
  REVALIDATE_CACHE_CONTROL,
  answerNotModifiedIfFresh,
  cspHash,
  setSecurityHeaders,
  statsEtag,
} from './headers.js';

export const DOCUSAURUS_PREFIX = '/docusaurus';

/** Docusaurus writes content-hashed bundles here, so their URLs change whenever their content does. */
const HASHED_ASSETS_PREFIX = 'assets/';

/** HTML pages larger than this are served without reading them for inline script hashes. */
const MAX_HASHED_HTML_BYTES = 5 * 1024 * 1024;

/**
 * Finds `docs-site/build` by walking up from this module, so the default works
 * from `sidecar/docs/` and from the compiled `dist/sidecar/docs/` alike.
 */
export function defaultDocusaurusBuildDir(): string {
  const moduleDir = dirname(fileURLToPath(import.meta.url));
  let current = moduleDir;
  for (;;) {
    if (existsSync(join(current, 'docs-site', 'package.json'))) return join(current, 'docs-site', 'build');
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  // dist/sidecar/docs/ is three levels below the application folder.
  return join(moduleDir, '..', '..', '..', 'docs-site', 'build');
}

/**
 * Splits the raw (still percent-encoded) path below /docusaurus into decoded
 * segments, or returns undefined when a segment could step outside the
 * folder or name a hidden file. Each segment is decoded exactly once, so a
 * double-encoded `%252e%252e` stays the literal file name `%2e%2e` and never
 * becomes `..`. Backslashes and colons are rejected because Windows reads
 * them as separators and as drive or stream names.
 */
export function parseRequestSegments(rawPath: string): string[] | undefined {
  const segments: string[] = [];
  for (const rawSegment of rawPath.split('/')) {
    if (rawSegment === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(rawSegment);
    } catch {
      return undefined;
    }
    if (segment.startsWith('.') || /[/\\:\0]/.test(segment)) return undefined;
    segments.push(segment);
  }
  return segments;
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

interface ResolvedFile {
  /** Real path of the file, inside the real build folder. */
  realPath: string;
  /** Path relative to the real build folder, with `/` separators. */
  relativePath: string;
  stats: Stats;
}

/**
 * Resolves symbolic links with realpath and accepts the result only when it
 * is a regular file inside the real build folder. A directory resolves to
 * its index.html.
 */
async function resolveInside(realRoot: string, segments: readonly string[]): Promise<ResolvedFile | undefined> {
  let realPath: string;
  try {
    realPath = await realpath(join(realRoot, ...segments));
  } catch {
    return undefined;
  }
  if (!isInside(realRoot, realPath)) return undefined;

  let stats: Stats;
  try {
    stats = await stat(realPath);
    if (stats.isDirectory()) {
      realPath = await realpath(join(realPath, 'index.html'));
      if (!isInside(realRoot, realPath)) return undefined;
      stats = await stat(realPath);
    }
  } catch {
    return undefined;
  }
  if (!stats.isFile()) return undefined;

  const relativeSegments = relative(realRoot, realPath).split(sep);
  // A link inside the folder may still point at a hidden file such as `.env`.
  if (relativeSegments.some((segment) => segment.startsWith('.'))) return undefined;
  return { realPath, relativePath: relativeSegments.join('/'), stats };
}

interface InlineScriptHashes {
  size: number;
  mtimeMs: number;
  hashes: string[];
}

/** Serves files of one Docusaurus build folder under /docusaurus. */
export class DocusaurusFiles {
  /** CSP hashes of the inline scripts of each HTML file, by real path; refreshed when the file changes. */
  readonly #hashCache = new Map<string, InlineScriptHashes>();

  constructor(private readonly buildDir: string) {}

  /** Handles a GET or HEAD under /docusaurus; `rawPath` is the request path, not yet decoded. */
  async handle(ctx: Context, rawPath: string): Promise<void> {
    if (rawPath === DOCUSAURUS_PREFIX) {
      // Docusaurus routes are relative to baseUrl `/docusaurus/`, so the bare prefix would render its 404 page.
      ctx.status = 301;
      ctx.redirect(`${DOCUSAURUS_PREFIX}/${ctx.querystring ? `?${ctx.querystring}` : ''}`);
      return;
    }

    const realRoot = await this.#realBuildDir();
    const notFound = new ApiError('ROUTE_NOT_FOUND', `No documentation file at ${rawPath}.`);
    const segments = parseRequestSegments(rawPath.slice(DOCUSAURUS_PREFIX.length));
    if (!segments) throw notFound;

    let file = await resolveInside(realRoot, segments);
    const last = segments.at(-1);
    if (!file && last !== undefined && extname(last) === '') {
      // Docusaurus with `trailingSlash: false` writes `page.html` for the route `/page`.
      file = await resolveInside(realRoot, [...segments.slice(0, -1), `${last}.html`]);
    }
    if (!file) throw notFound;

    await this.#sendFile(ctx, realRoot, file);
  }

  async #realBuildDir(): Promise<string> {
    try {
      return await realpath(this.buildDir);
    } catch {
      throw new ApiError(
        'ROUTE_NOT_FOUND',
        'The Docusaurus site is not built; run "npm ci --prefix docs-site" and "npm run docs:build" in the application folder.',
      );
    }
  }

  async #sendFile(ctx: Context, realRoot: string, file: ResolvedFile): Promise<void> {
    const isHtml = extname(file.realPath).toLowerCase() === '.html';
    const scriptHashes = isHtml ? await this.#inlineScriptHashes(file) : [];
    setSecurityHeaders(ctx, { scriptHashes, inlineStyles: true });
    ctx.set(
      'Cache-Control',
      file.relativePath.startsWith(HASHED_ASSETS_PREFIX) ? IMMUTABLE_CACHE_CONTROL : REVALIDATE_CACHE_CONTROL,
    );
    ctx.set('ETag', statsEtag(file.stats));

    // koa-send decodes the path once more, so each segment is encoded again.
    // NOTE: koa-send opens the file by path after the realpath check. A symlink swapped in
    // between would be followed, but swapping one needs write access to the build folder.
    const encodedPath = file.relativePath.split('/').map(encodeURIComponent).join('/');
    try {
      // Precompressed `.gz`/`.br` siblings are off because only the checked file may be sent.
      await send(ctx, encodedPath, { root: realRoot, gzip: false, brotli: false, hidden: false, index: false });
    } catch {
      // The file was removed or replaced between the check and the send, as during a rebuild.
      throw new ApiError('ROUTE_NOT_FOUND', `No documentation file at ${ctx.path}.`);
    }
    answerNotModifiedIfFresh(ctx);
  }

  /**
   * Docusaurus pages carry small inline scripts (the color-mode switch runs
   * before first paint), so the CSP allows exactly those by SHA-256 hash
   * instead of allowing every inline script.
   */
  async #inlineScriptHashes(file: ResolvedFile): Promise<string[]> {
    const cached = this.#hashCache.get(file.realPath);
    if (cached && cached.size === file.stats.size && cached.mtimeMs === file.stats.mtimeMs) return cached.hashes;
    if (file.stats.size > MAX_HASHED_HTML_BYTES) return [];

    const html = await readFile(file.realPath, 'utf8');
    const hashes = [...new Set(extractInlineScripts(html).map(cspHash))];
    this.#hashCache.set(file.realPath, { size: file.stats.size, mtimeMs: file.stats.mtimeMs, hashes });
    return hashes;
  }
}

/** Returns the text of each `<script>` element without a `src` attribute. */
export function extractInlineScripts(html: string): string[] {
  const scripts: string[] = [];
  for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    const attributes = match[1] ?? '';
    const text = match[2] ?? '';
    if (/\bsrc\s*=/i.test(attributes) || text === '') continue;
    scripts.push(text);
  }
  return scripts;
}

// Security and caching headers shared by the Scalar page and the Docusaurus files.

import { createHash } from 'node:crypto';

import type { Context } from 'koa';
import type { Stats } from 'node:fs';

/** One year in seconds, the usual ceiling for `max-age` of content-addressed files. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** Caches may store the response but must revalidate it (ETag or Last-Modified) before each use. */
export const REVALIDATE_CACHE_CONTROL = 'no-cache';

export interface CspSources {
  /** Extra `script-src` sources, such as `'sha256-…'` hashes of inline scripts. */
  scriptHashes?: readonly string[];
  /** Adds `'unsafe-inline'` to `style-src`, which a page needs when it injects `<style>` elements at run time. */
  inlineStyles?: boolean;
}

/**
 * Builds a Content-Security-Policy that lets a page load only from this
 * server: scripts, styles, fonts, images and fetches from other hosts are
 * all refused by the browser.
 */
export function contentSecurityPolicy(sources: CspSources = {}): string {
  const scriptSources = ["'self'", ...(sources.scriptHashes ?? [])];
  const styleSources = sources.inlineStyles ? ["'self'", "'unsafe-inline'"] : ["'self'"];
  return [
    "default-src 'none'",
    `script-src ${scriptSources.join(' ')}`,
    `style-src ${styleSources.join(' ')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "manifest-src 'self'",
    "worker-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Sets the CSP and the headers that stop MIME sniffing, referrer leaks and framing. */
export function setSecurityHeaders(ctx: Context, sources: CspSources = {}): void {
  ctx.set('Content-Security-Policy', contentSecurityPolicy(sources));
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
}

/** Builds a weak validator from size and modification time, as most static file servers do. */
export function statsEtag(stats: Pick<Stats, 'size' | 'mtimeMs'>): string {
  return `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
}

/** Returns the CSP source expression (`'sha256-…'`) of an inline script's exact text. */
export function cspHash(scriptText: string): string {
  return `'sha256-${createHash('sha256').update(scriptText, 'utf8').digest('base64')}'`;
}

/**
 * Turns a 200 response into 304 Not Modified when the request's
 * If-None-Match or If-Modified-Since matches the validators already set, and
 * drops the body so an open file stream is closed.
 */
export function answerNotModifiedIfFresh(ctx: Context): void {
  if (ctx.status === 200 && ctx.fresh) {
    ctx.status = 304;
    ctx.body = null;
  }
}

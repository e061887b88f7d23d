// Request guards that run before routing: Host allow-list, browser Origin check and CORS, bearer auth.

import { networkInterfaces } from 'node:os';

import cors from '@koa/cors';
import type { Context, Middleware, Next } from 'koa';

import { ApiError } from './errors.js';
import type { TokenStore } from './auth/tokens.js';

export interface GuardSettings {
  port: number;
  exposeOnLan: boolean;
  allowedOrigins: readonly string[];
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const INTERFACE_CACHE_MS = 5000;

let interfaceCache: { at: number; addresses: string[] } | undefined;

/** Literal addresses of this machine's non-loopback interfaces, as they appear in a Host header. */
export function lanHostLiterals(): string[] {
  const now = Date.now();
  if (interfaceCache && now - interfaceCache.at < INTERFACE_CACHE_MS) return interfaceCache.addresses;
  const addresses: string[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      // A link-local IPv6 address needs a zone id, which a Host header cannot carry.
      if (entry.family === 'IPv6' && entry.address.toLowerCase().startsWith('fe80:')) continue;
      addresses.push(entry.family === 'IPv6' ? `[${entry.address.toLowerCase()}]` : entry.address);
    }
  }
  interfaceCache = { at: now, addresses };
  return addresses;
}

/** Builds every Host header value the server accepts: names with the server's own port, never a wildcard. */
export function allowedHosts(settings: Pick<GuardSettings, 'port' | 'exposeOnLan'>): Set<string> {
  const names = settings.exposeOnLan ? [...LOOPBACK_NAMES, ...lanHostLiterals()] : LOOPBACK_NAMES;
  return new Set(names.map((name) => `${name}:${settings.port}`));
}

let loopbackHostCache: { port: number; hosts: Set<string> } | undefined;

/** Returns the allowed Host values, reusing the loopback set while the port stays the same. */
function currentAllowedHosts(settings: Pick<GuardSettings, 'port' | 'exposeOnLan'>): Set<string> {
  // LAN addresses can change at any time, so LAN mode rebuilds the set from the interface cache.
  if (settings.exposeOnLan) return allowedHosts(settings);
  if (loopbackHostCache?.port !== settings.port) loopbackHostCache = { port: settings.port, hosts: allowedHosts(settings) };
  return loopbackHostCache.hosts;
}

/**
 * Rejects requests whose Host header does not name this server. A web page
 * that rebinds its own DNS name to 127.0.0.1 still sends its own name as the
 * Host, so this is what keeps such pages out.
 */
export function hostGuard(settings: () => GuardSettings): Middleware {
  return async function checkHost(ctx: Context, next: Next) {
    // Node keeps only the first of repeated Host lines, and RFC 9112 section 3.2 requires rejecting such a request.
    if (countHeaderLines(ctx.req.rawHeaders, 'host') > 1) {
      throw new ApiError('HOST_NOT_ALLOWED', 'Send exactly one Host header.');
    }
    const host = ctx.get('host').toLowerCase();
    if (host === '' || !currentAllowedHosts(settings()).has(host)) {
      throw new ApiError('HOST_NOT_ALLOWED', 'Use http://127.0.0.1, http://localhost or http://[::1] with the configured port.');
    }
    await next();
  };
}

/** Counts the lines of one header in Node's flat [name, value, name, value, ...] list. */
function countHeaderLines(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index]?.toLowerCase() === name) count += 1;
  }
  return count;
}

function ownOrigins(ctx: Context): string[] {
  return [`http://${ctx.get('host').toLowerCase()}`];
}

/**
 * Rejects requests from browser origins other than this server's own pages and
 * the exact origins allowed in Settings, and adds CORS headers only for the
 * allowed ones. Requests without an Origin header (curl, scripts) pass.
 */
export function originGuard(settings: () => GuardSettings): Middleware {
  const corsMiddleware = cors({
    origin: (ctx) => {
      const origin = ctx.get('origin');
      return settings().allowedOrigins.includes(origin) ? origin : '';
    },
    allowMethods: ['GET', 'HEAD', 'POST'],
    allowHeaders: ['Authorization', 'Content-Type'],
    exposeHeaders: ['Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
  });
  return async function checkOrigin(ctx: Context, next: Next) {
    const origin = ctx.get('origin');
    if (origin === '' || ownOrigins(ctx).includes(origin)) {
      await next();
      return;
    }
    if (!settings().allowedOrigins.includes(origin)) {
      throw new ApiError('ORIGIN_NOT_ALLOWED', `Browser requests from ${origin.slice(0, 200)} are not allowed; add the origin in Settings > Local API if you trust it.`);
    }
    await corsMiddleware(ctx, next);
  };
}

const BEARER_REALM = 'realm="MetoYou Local API"';

/**
 * Checks the bearer token of a protected route (RFC 6750). Only the
 * Authorization header counts; a token in the query string is ignored.
 */
export function requireToken(tokens: TokenStore, ctx: Context): void {
  const header = ctx.get('authorization');
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  if (!match) {
    throw new ApiError(
      'AUTH_REQUIRED',
      header === '' ? 'Send Authorization: Bearer <token>; get a token from POST /api/auth/login.' : 'The Authorization header must be "Bearer <token>".',
      { 'WWW-Authenticate': `Bearer ${BEARER_REALM}` },
    );
  }
  const token = match[1] ?? '';
  const owner = tokens.verify(token);
  if (!owner) {
    throw new ApiError('INVALID_TOKEN', 'The token is unknown, revoked or expired; log in again.', {
      'WWW-Authenticate': `Bearer ${BEARER_REALM}, error="invalid_token", error_description="The token is unknown, revoked or expired"`,
    });
  }
  ctx.state.token = token;
  ctx.state.tokenOwner = owner;
}

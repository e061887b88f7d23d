// Builds the Koa application of the local API from the route table.

import { randomBytes } from 'node:crypto';

import Router from '@koa/router';
import Koa, { type Context, type Middleware, type Next } from 'koa';
import bodyParser from 'koa-bodyparser';

import { ApiError, errorMiddleware } from './errors.js';
import { hostGuard, originGuard, requireToken, type GuardSettings } from './guards.js';
import { logger } from './log.js';
import { LoginService, type LoginThrottleOptions } from './auth/login.js';
import type { SignalingClientOptions, VerifyResult } from './auth/signaling-client.js';
import { TokenStore } from './auth/tokens.js';
import type { DesktopDatabase } from './database.js';
import { CURRENT_USER_META_KEY, Repository } from './data/repository.js';
import { buildOpenApiDocument, SERVER_VERSION } from './openapi/document.js';
import { routerPath, type RouteDefinition, type RouteServices } from './routes/definition.js';
import { apiRoutes } from './routes/index.js';
import { validateParameters } from './routes/parameters.js';

/** Largest login body accepted; a login is three short strings. */
export const MAX_LOGIN_BODY = '8kb';

export interface AppSettings extends GuardSettings {
  allowedServers: readonly string[];
  scalarDocs: boolean;
  docusaurusDocs: boolean;
}

export interface AppOptions {
  database: DesktopDatabase;
  settings: () => AppSettings;
  tokens?: TokenStore;
  now?: () => number;
  signaling?: SignalingClientOptions;
  verify?: (serverUrl: string, credentials: { username: string; password: string }) => Promise<VerifyResult>;
  throttle?: LoginThrottleOptions;
  /** Middleware mounted before the API router, such as the docs. */
  beforeRoutes?: Middleware[];
}

export interface LocalApiApp {
  app: Koa;
  tokens: TokenStore;
}

/**
 * Assigns request ids: a random prefix per app plus a counter, unique within
 * one sidecar run and cheaper than random bytes per request.
 */
function requestContext(): Middleware {
  const prefix = randomBytes(4).toString('hex');
  let counter = 0;
  return async function assignRequestId(ctx: Context, next: Next) {
    counter += 1;
    ctx.state.requestId = `${prefix}-${counter.toString(36)}`;
    ctx.set('X-Request-Id', ctx.state.requestId);
    if (!logger.isLevelEnabled('debug')) {
      await next();
      return;
    }
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.debug({ requestId: ctx.state.requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, 'request');
    }
  };
}

function apiSecurityHeaders(): Middleware {
  return async function setSecurityHeaders(ctx: Context, next: Next) {
    await next();
    if (!ctx.path.startsWith('/api/') && ctx.status < 400) return;
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
  };
}

function jsonBody(): Middleware {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: MAX_LOGIN_BODY, strict: true });
  return async function parseJsonBody(ctx: Context, next: Next) {
    if (ctx.is('application/json') !== 'application/json') {
      throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON with Content-Type: application/json.');
    }
    await parse(ctx, next);
  };
}

function routeHandler(route: RouteDefinition<unknown, unknown>, services: RouteServices): Middleware {
  return async function handleRoute(ctx: Context) {
    if (route.auth) requireToken(services.tokens, ctx);
    const params = route.params ? validateParameters(route.params, ctx.params as Record<string, string>) : {};
    const query = route.query ? validateParameters(route.query, ctx.query) : {};
    const body = await route.handle({ params, query, ctx, services });
    ctx.status = route.response.status;
    if (body !== undefined) ctx.body = body;
  };
}

/**
 * Turns a request that no route handled into a problem: METHOD_NOT_ALLOWED, with
 * the Allow header that the router's allowedMethods set, or ROUTE_NOT_FOUND.
 */
async function routeNotFound(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.body !== undefined) return;
  if (ctx.status === 405 || ctx.status === 501) {
    const allow = ctx.response.get('Allow');
    throw new ApiError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed here; use ${allow || 'GET'}.`, allow ? { Allow: allow } : {});
  }
  if (ctx.status === 404) {
    throw new ApiError('ROUTE_NOT_FOUND', `No route matches ${ctx.method} ${ctx.path.slice(0, 200)}; see /api/openapi.json.`);
  }
}

function buildRouter(services: RouteServices): Router {
  const router = new Router();
  for (const route of apiRoutes) {
    const middleware = route.requestBody ? [jsonBody(), routeHandler(route, services)] : [routeHandler(route, services)];
    router[route.method](route.operationId, routerPath(route.path), ...middleware);
  }
  return router;
}

/** Creates the Koa app and the token store it uses; the caller owns the HTTP servers. */
export function createApp(options: AppOptions): LocalApiApp {
  const now = options.now ?? Date.now;
  const tokens = options.tokens ?? new TokenStore(now);
  const repository = new Repository(options.database);
  const login = new LoginService({
    tokens,
    allowedServers: () => options.settings().allowedServers,
    currentUserId: () => repository.getMeta(CURRENT_USER_META_KEY),
    verify: options.verify,
    signaling: options.signaling,
    throttle: options.throttle,
  });
  const services: RouteServices = {
    repository,
    tokens,
    login,
    settings: () => options.settings(),
    version: SERVER_VERSION,
    now,
    openApiDocument: buildOpenApiDocument,
  };

  const app = new Koa({ proxy: false });
  app.silent = true;
  const router = buildRouter(services);
  app.use(requestContext());
  // Outside errorMiddleware, so that the headers also reach the problem responses of thrown errors.
  app.use(apiSecurityHeaders());
  app.use(errorMiddleware);
  app.use(hostGuard(options.settings));
  app.use(originGuard(options.settings));
  app.use(routeNotFound);
  for (const middleware of options.beforeRoutes ?? []) app.use(middleware);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return { app, tokens };
}

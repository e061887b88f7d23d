// Shape of a route definition: one object drives the router, the validation and the OpenAPI document.

import type { Context } from 'koa';
import type * as yup from 'yup';

import type { ErrorCode } from '../../shared/errors.js';
import type { LoginService } from '../auth/login.js';
import type { TokenStore } from '../auth/tokens.js';
import type { Repository } from '../data/repository.js';

/** Settings the routes read on each request, so a change applies without a restart. */
export interface RuntimeSettings {
  port: number;
  exposeOnLan: boolean;
}

export interface RouteServices {
  repository: Repository;
  tokens: TokenStore;
  login: LoginService;
  settings: () => RuntimeSettings;
  version: string;
  now: () => number;
  openApiDocument: () => object;
}

export interface RouteInput<Params, Query> {
  params: Params;
  query: Query;
  ctx: Context;
  services: RouteServices;
}

export interface RouteResponse {
  status: number;
  description: string;
  /** Name of a schema in components.schemas; absent for an empty body. */
  schema?: string;
  example?: unknown;
}

export interface RouteDefinition<Params = Record<string, never>, Query = Record<string, never>> {
  method: 'get' | 'post';
  /** OpenAPI path template, such as `/api/rooms/{roomId}`. */
  path: string;
  operationId: string;
  summary: string;
  description: string;
  tag: string;
  /** True when the route needs a bearer token. */
  auth: boolean;
  /** True when the route reads the desktop database, so it can return the DATABASE_* codes. */
  readsDatabase: boolean;
  params?: yup.ObjectSchema<Params & yup.AnyObject>;
  query?: yup.ObjectSchema<Query & yup.AnyObject>;
  /** Name of the request body schema; the body must be application/json. */
  requestBody?: string;
  response: RouteResponse;
  /** Codes this route raises itself, beyond the ones that follow from auth, database, params and body. */
  errors: ErrorCode[];
  handle(input: RouteInput<Params, Query>): Promise<unknown>;
}

/** Keeps the literal types of a definition while erasing them for the route table. */
export function defineRoute<Params, Query>(definition: RouteDefinition<Params, Query>): RouteDefinition<unknown, unknown> {
  return definition as unknown as RouteDefinition<unknown, unknown>;
}

/** Lists every error code a route can return, derived from its definition. */
export function errorCodesOf(definition: RouteDefinition<unknown, unknown>): ErrorCode[] {
  const codes = new Set<ErrorCode>(['HOST_NOT_ALLOWED', 'ORIGIN_NOT_ALLOWED', 'INTERNAL_ERROR']);
  if (definition.params || definition.query || definition.requestBody) codes.add('INVALID_REQUEST');
  if (definition.auth) {
    codes.add('AUTH_REQUIRED');
    codes.add('INVALID_TOKEN');
  }
  if (definition.readsDatabase) {
    codes.add('DATABASE_UNAVAILABLE');
    codes.add('DATABASE_BUSY');
    codes.add('DATABASE_CORRUPT');
  }
  if (definition.requestBody) {
    codes.add('PAYLOAD_TOO_LARGE');
    codes.add('UNSUPPORTED_MEDIA_TYPE');
  }
  for (const code of definition.errors) codes.add(code);
  return [...codes];
}

/** Converts `/api/rooms/{roomId}` to the router's `/api/rooms/:roomId`. */
export function routerPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

// Routes that need no token: health, the OpenAPI document, login; and logout, which ends a token.

import { defineRoute } from './definition.js';
import { parseLoginBody } from '../auth/login.js';
import { ApiError } from '../errors.js';

export const publicRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/health',
    operationId: 'getHealth',
    summary: 'Check the server',
    description: 'Checks whether the local API server is running. It responds even when the database is unavailable.',
    tag: 'Public',
    auth: false,
    readsDatabase: false,
    response: {
      status: 200,
      description: 'The server is running.',
      schema: 'Health',
      example: { status: 'ok', version: '1.0.0', timestamp: 1777473600000, exposeOnLan: false },
    },
    errors: [],
    async handle({ services }) {
      return { status: 'ok', version: services.version, timestamp: services.now(), exposeOnLan: services.settings().exposeOnLan };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'Get the OpenAPI document',
    description: 'Returns this OpenAPI 3.1 document.',
    tag: 'Public',
    auth: false,
    readsDatabase: false,
    response: { status: 200, description: 'The OpenAPI 3.1 document.' },
    errors: [],
    async handle({ services }) {
      return services.openApiDocument();
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/auth/login',
    operationId: 'login',
    summary: 'Log in and get a token',
    description:
      'Issues a local bearer token, valid for one hour, after an allowed signaling server accepts the credentials. ' +
      'Only the user signed in to this desktop app can get a token. The body must be `application/json`, at most 8 KiB.',
    tag: 'Authentication',
    auth: false,
    readsDatabase: true,
    requestBody: 'LoginRequest',
    response: {
      status: 200,
      description: 'A new token.',
      schema: 'LoginResponse',
      example: {
        token: 'local_4cddf95c5b8c4b6f9e0c4cddf95c5b8c4b6f9e0c123',
        expiresAt: 1777477200000,
        user: { id: 'user-alice-01', username: 'alice', displayName: 'Alice' },
      },
    },
    errors: ['NO_ALLOWED_SERVERS', 'SERVER_NOT_ALLOWED', 'INVALID_CREDENTIALS', 'NOT_LOCAL_USER', 'RATE_LIMITED', 'TOO_MANY_TOKENS', 'UPSTREAM_UNREACHABLE'],
    async handle({ ctx, services }) {
      const body = parseLoginBody(ctx.request.body);
      return services.login.login(body, ctx.ip, String(ctx.state.requestId));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/auth/logout',
    operationId: 'logout',
    summary: 'Log out',
    description: 'Revokes the token that authorizes this request.',
    tag: 'Authentication',
    auth: true,
    readsDatabase: false,
    response: { status: 204, description: 'The token is revoked.' },
    errors: [],
    async handle({ ctx, services }) {
      const token = ctx.state.token as string | undefined;
      if (!token) throw new ApiError('AUTH_REQUIRED');
      services.tokens.revoke(token);
      return undefined;
    },
  }),
];

// API errors and the middleware that turns every thrown error into an RFC 9457 problem response.

import type { Context, Next } from 'koa';

import { ERROR_CODES, problemTypeUri, type ErrorCode } from '../shared/errors.js';
import { logger } from './log.js';

/** An error the client may see: a registered code, its status and a detail sentence. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? ERROR_CODES[code].title);
    this.status = ERROR_CODES[code].status;
  }
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
}

export function problemBody(code: ErrorCode, detail: string | undefined, requestId: string): ProblemDetails {
  const definition = ERROR_CODES[code];
  return {
    type: problemTypeUri(code),
    title: definition.title,
    status: definition.status,
    detail: detail ?? definition.title,
    code,
    requestId,
  };
}

/** Sends a problem response; used by the error middleware and by guards that run before routing. */
export function sendProblem(ctx: Context, error: ApiError): void {
  ctx.status = error.status;
  for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
  ctx.type = 'application/problem+json';
  ctx.body = problemBody(error.code, error.detail, String(ctx.state.requestId ?? ''));
}

/** Maps errors thrown by Koa and its body parser (which carry `status`) to registered codes. */
function fromHttpError(error: { status?: number; expose?: boolean; message?: string }): ApiError | undefined {
  switch (error.status) {
    // Only the JSON body parser throws a bare 400 here, for a body that is not valid JSON.
    case 400:
      return new ApiError('INVALID_REQUEST', 'The request body is not valid JSON.');
    case 413:
      return new ApiError('PAYLOAD_TOO_LARGE');
    case 415:
      return new ApiError('UNSUPPORTED_MEDIA_TYPE');
    default:
      return undefined;
  }
}

/**
 * Catches every error below it. Registered errors go to the client as problem
 * details. Anything else is logged with the request id and returned as a bare
 * 500, so no stack trace, SQL or file path reaches a response.
 */
export async function errorMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (caught) {
    const error = caught as Error & { status?: number; expose?: boolean };
    const apiError = error instanceof ApiError ? error : fromHttpError(error);
    if (apiError) {
      const level = apiError.status >= 500 ? 'error' : 'info';
      logger[level]({ requestId: ctx.state.requestId, code: apiError.code, path: ctx.path }, 'request failed');
      sendProblem(ctx, apiError);
      return;
    }
    logger.error({ requestId: ctx.state.requestId, path: ctx.path, err: error }, 'unhandled error in request');
    sendProblem(ctx, new ApiError('INTERNAL_ERROR'));
  }
}

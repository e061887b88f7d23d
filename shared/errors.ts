// Registry of every error code the local API can return, with its HTTP status and title.

export interface ErrorDefinition {
  readonly status: number;
  readonly title: string;
}

export const ERROR_CODES = {
  INVALID_REQUEST: { status: 400, title: 'The request is invalid.' },
  AUTH_REQUIRED: { status: 401, title: 'A bearer token is required.' },
  INVALID_TOKEN: { status: 401, title: 'The bearer token is invalid or has expired.' },
  INVALID_CREDENTIALS: { status: 401, title: 'The signaling server rejected the login.' },
  NO_ALLOWED_SERVERS: { status: 403, title: 'No allowed signaling servers are configured.' },
  SERVER_NOT_ALLOWED: { status: 403, title: 'The server URL is not in the allowed list.' },
  NOT_LOCAL_USER: { status: 403, title: 'The account is not the local desktop user.' },
  HOST_NOT_ALLOWED: { status: 421, title: 'The Host header does not name this server.' },
  ORIGIN_NOT_ALLOWED: { status: 403, title: 'Requests from this browser origin are not allowed.' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No route matches this path.' },
  ROOM_NOT_FOUND: { status: 404, title: 'The room was not found.' },
  MESSAGE_NOT_FOUND: { status: 404, title: 'The message was not found.' },
  USER_NOT_FOUND: { status: 404, title: 'The user was not found.' },
  META_KEY_NOT_FOUND: { status: 404, title: 'The metadata key was not found.' },
  PLUGIN_DATA_NOT_FOUND: { status: 404, title: 'The plugin data value was not found.' },
  DOCS_DISABLED: { status: 404, title: 'This documentation is turned off in Settings.' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'The method is not allowed on this route.' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body must be application/json.' },
  RATE_LIMITED: { status: 429, title: 'Too many failed logins; retry later.' },
  TOO_MANY_TOKENS: { status: 429, title: 'Too many live tokens; log out or wait for tokens to expire.' },
  INTERNAL_ERROR: { status: 500, title: 'Internal server error.' },
  UPSTREAM_UNREACHABLE: { status: 502, title: 'The signaling server could not be reached.' },
  DATABASE_UNAVAILABLE: { status: 503, title: 'The desktop database is not available.' },
  DATABASE_BUSY: { status: 503, title: 'The desktop database is locked by another process.' },
  DATABASE_CORRUPT: { status: 503, title: 'The desktop database file is not a valid database.' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ALL_ERROR_CODES = Object.keys(ERROR_CODES) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** Builds the RFC 9457 `type` URI of a code; it resolves to the error list of the Docusaurus site. */
export function problemTypeUri(code: ErrorCode): string {
  return `/docusaurus/docs/errors#${code.toLowerCase().replaceAll('_', '-')}`;
}

// Settings of the local API, validated with one yup schema by the host, the Settings page and the sidecar.

import * as yup from 'yup';

export const DEFAULT_PORT = 17878;
export const MIN_PORT = 1024;
export const MAX_PORT = 65535;
export const MAX_ALLOWED_SERVERS = 32;
export const MAX_ALLOWED_ORIGINS = 32;

export interface LocalApiSettings {
  enabled: boolean;
  port: number;
  exposeOnLan: boolean;
  /** Normalized signaling server URLs that may validate logins. */
  allowedServers: string[];
  /** Exact browser origins that may call the API with CORS; empty means none. */
  allowedOrigins: string[];
  scalarDocs: boolean;
  docusaurusDocs: boolean;
}

export const DEFAULT_SETTINGS: Readonly<LocalApiSettings> = Object.freeze({
  enabled: false,
  port: DEFAULT_PORT,
  exposeOnLan: false,
  allowedServers: [],
  allowedOrigins: [],
  scalarDocs: false,
  docusaurusDocs: false,
});

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopbackHostname(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname);
}

export class InvalidServerUrlError extends Error {
  override name = 'InvalidServerUrlError';
}

/**
 * Normalizes a signaling server URL so that equal servers compare equal: the
 * WHATWG parser lowercases the scheme and host and drops a default port, and
 * this function drops a trailing slash. Throws InvalidServerUrlError for URLs
 * with credentials, a query or a fragment, and for plain `http` to a host
 * that is not loopback, because a password would cross the network in clear.
 */
export function normalizeServerUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new InvalidServerUrlError(`"${input}" is not a valid URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidServerUrlError(`"${input}" must use https.`);
  }
  if (url.protocol === 'http:' && !isLoopbackHostname(url.hostname)) {
    throw new InvalidServerUrlError(`"${input}" must use https; plain http is allowed only for localhost.`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidServerUrlError(`"${input}" must not contain a user name or password.`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InvalidServerUrlError(`"${input}" must not contain a query or fragment.`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

/** Normalizes an exact browser origin such as `chrome-extension://abc` or `http://localhost:3000`. */
export function normalizeOrigin(input: string): string {
  const trimmed = input.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new InvalidServerUrlError(`"${input}" is not a valid origin.`);
  }
  if (url.origin !== 'null') {
    if (trimmed.replace(/\/$/, '').toLowerCase() !== url.origin.toLowerCase()) {
      throw new InvalidServerUrlError(`"${input}" must be an origin only: scheme, host and port, no path.`);
    }
    return url.origin;
  }
  // Extension origins have no WHATWG origin, so they are kept as scheme://host.
  if (url.host === '' || url.pathname.replace(/\/$/, '') !== '') {
    throw new InvalidServerUrlError(`"${input}" must be an origin only: scheme, host and port, no path.`);
  }
  return `${url.protocol}//${url.host}`;
}

function normalizedList(normalize: (value: string) => string, label: string, max: number) {
  return yup
    .array()
    .of(yup.string().required())
    .max(max, `At most ${max} ${label} are allowed.`)
    .default([])
    .test('normalizable', function check(values) {
      for (const value of values ?? []) {
        try {
          normalize(value);
        } catch (error) {
          return this.createError({ message: (error as Error).message });
        }
      }
      return true;
    })
    .transform((values: unknown) => {
      if (!Array.isArray(values)) return values;
      const normalized: string[] = [];
      for (const value of values) {
        try {
          const entry = normalize(String(value));
          if (!normalized.includes(entry)) normalized.push(entry);
        } catch {
          // Keep the raw value so that the test above reports it.
          normalized.push(String(value));
        }
      }
      return normalized;
    });
}

export const settingsSchema = yup
  .object({
    enabled: yup.boolean().strict().default(DEFAULT_SETTINGS.enabled),
    port: yup
      .number()
      .strict()
      .integer('Port must be a whole number.')
      .min(MIN_PORT, `Port must be between ${MIN_PORT} and ${MAX_PORT}.`)
      .max(MAX_PORT, `Port must be between ${MIN_PORT} and ${MAX_PORT}.`)
      .default(DEFAULT_SETTINGS.port),
    exposeOnLan: yup.boolean().strict().default(DEFAULT_SETTINGS.exposeOnLan),
    allowedServers: normalizedList(normalizeServerUrl, 'allowed servers', MAX_ALLOWED_SERVERS),
    allowedOrigins: normalizedList(normalizeOrigin, 'allowed origins', MAX_ALLOWED_ORIGINS),
    scalarDocs: yup.boolean().strict().default(DEFAULT_SETTINGS.scalarDocs),
    docusaurusDocs: yup.boolean().strict().default(DEFAULT_SETTINGS.docusaurusDocs),
  })
  .noUnknown(true, 'Unknown setting: ${unknown}.');

export class InvalidSettingsError extends Error {
  override name = 'InvalidSettingsError';
  constructor(readonly errors: string[]) {
    super(errors.join(' '));
  }
}

/** Validates and normalizes settings; missing fields take their defaults. Throws InvalidSettingsError. */
export function parseSettings(input: unknown): LocalApiSettings {
  if (input !== undefined && input !== null && (typeof input !== 'object' || Array.isArray(input))) {
    throw new InvalidSettingsError(['Settings must be an object.']);
  }
  try {
    // The fields are strict, so yup does not fill defaults itself; merging them first does.
    const parsed = settingsSchema.validateSync({ ...DEFAULT_SETTINGS, ...(input ?? {}) }, { abortEarly: false, stripUnknown: false });
    return {
      ...parsed,
      allowedServers: [...parsed.allowedServers],
      allowedOrigins: [...parsed.allowedOrigins],
    };
  } catch (error) {
    if (error instanceof yup.ValidationError) throw new InvalidSettingsError(error.errors);
    throw error;
  }
}

// Main-process IPC of the Settings page: input validation, the handlers behind `window.localApi` and their registration.

import * as yup from 'yup';

import { DEFAULT_SETTINGS, InvalidSettingsError, settingsSchema } from '../../shared/settings.js';
import { LOCAL_API_CHANNELS } from './ipc-channels.js';

import type { IpcMain, WebContents } from 'electron';
import type { SidecarStatus, TokenInfo } from '../../shared/protocol.js';
import type { LocalApiSettings } from '../../shared/settings.js';
import type { HostLog } from '../host/host-log.js';
import type { LocalApiController } from '../host/types.js';
import type { IpcResult, LocalApiChannel, LocalApiError, LocalApiMethod } from './ipc-channels.js';

/** Maximum length of a token id. The sidecar makes UUIDs (36 characters), so this leaves room for another format. */
export const MAX_TOKEN_ID_LENGTH = 128;
/** Maximum length of one URL or origin in a settings list. */
export const MAX_LIST_ENTRY_LENGTH = 2048;

const SETTING_KEYS = new Set(Object.keys(DEFAULT_SETTINGS));

const SETTING_LABELS: Record<keyof LocalApiSettings, string> = {
  enabled: 'Enable',
  port: 'Port',
  exposeOnLan: 'Expose on LAN',
  allowedServers: 'Allowed signaling servers',
  allowedOrigins: 'Allowed browser origins',
  scalarDocs: 'Scalar docs',
  docusaurusDocs: 'Docusaurus docs',
};

function booleanField(key: keyof LocalApiSettings) {
  const message = `${SETTING_LABELS[key]} must be true or false.`;
  return yup.boolean().strict().typeError(message).nonNullable(message);
}

function listField(key: keyof LocalApiSettings) {
  const label = SETTING_LABELS[key];
  return yup
    .array()
    .strict()
    .typeError(`${label} must be a list of strings.`)
    .nonNullable(`${label} must be a list of strings.`)
    .of(
      yup
        .string()
        .strict()
        .typeError(`${label} must be a list of strings.`)
        .max(MAX_LIST_ENTRY_LENGTH, `Each entry of ${label.toLowerCase()} must be at most ${MAX_LIST_ENTRY_LENGTH} characters.`)
        .defined(`${label} must not contain empty entries.`),
    );
}

/**
 * Types of a partial settings change. Ranges and URL rules come from the
 * shared settings schema afterwards, so both checks report against one field.
 */
const settingsChangeSchema = yup
  .object({
    enabled: booleanField('enabled'),
    port: yup.number().strict().typeError('Port must be a number.').nonNullable('Port must be a number.'),
    exposeOnLan: booleanField('exposeOnLan'),
    allowedServers: listField('allowedServers'),
    allowedOrigins: listField('allowedOrigins'),
    scalarDocs: booleanField('scalarDocs'),
    docusaurusDocs: booleanField('docusaurusDocs'),
  })
  .strict();

const tokenIdSchema = yup
  .string()
  .strict()
  .typeError('Token id must be a string.')
  .required('Token id must not be empty.')
  .max(MAX_TOKEN_ID_LENGTH, `Token id must be at most ${MAX_TOKEN_ID_LENGTH} characters.`)
  .matches(/^[\x21-\x7e]+$/, 'Token id must contain only printable ASCII characters without spaces.');

/** A rejected input with messages per field; handlers turn it into an `INVALID_INPUT` result. */
class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  constructor(
    message: string,
    readonly fieldErrors?: Record<string, string[]>,
  ) {
    super(message);
  }
}

/** Groups yup errors by top-level field, so `allowedServers[2]` is shown next to the allowed servers list. */
function fieldErrorsOf(error: yup.ValidationError): Record<string, string[]> {
  const fieldErrors: Record<string, string[]> = {};
  const errors = error.inner.length > 0 ? error.inner : [error];
  for (const inner of errors) {
    const field = (inner.path ?? '').split(/[.[]/)[0] || 'settings';
    const messages = (fieldErrors[field] ??= []);
    for (const message of inner.errors) if (!messages.includes(message)) messages.push(message);
  }
  return fieldErrors;
}

/** Runs a yup validation and returns its errors by field, or an empty object when the value is valid. */
function collectFieldErrors(validate: () => unknown): Record<string, string[]> {
  try {
    validate();
    return {};
  } catch (error) {
    if (!(error instanceof yup.ValidationError)) throw error;
    return fieldErrorsOf(error);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/**
 * Validates a settings change from the page against the current settings and
 * returns it unchanged. Throws InvalidInputError listing every bad field.
 */
export function validateSettingsChange(change: unknown, current: LocalApiSettings): Partial<LocalApiSettings> {
  if (!isPlainObject(change)) throw new InvalidInputError('The settings change must be an object.');

  const unknownKeys = Object.keys(change).filter((key) => !SETTING_KEYS.has(key));
  if (unknownKeys.length > 0) {
    const fieldErrors = Object.fromEntries(unknownKeys.map((key) => [key, [`Unknown setting: ${key}.`]]));
    throw new InvalidInputError(`Unknown setting: ${unknownKeys.join(', ')}.`, fieldErrors);
  }

  const fieldErrors = collectFieldErrors(() => settingsChangeSchema.validateSync(change, { abortEarly: false }));
  // Fields with a wrong type keep their current value for the range and URL checks, so every field is reported once.
  const typedChange = Object.fromEntries(Object.entries(change).filter(([key]) => fieldErrors[key] === undefined));
  const ruleErrors = collectFieldErrors(() =>
    settingsSchema.validateSync({ ...current, ...typedChange }, { abortEarly: false }),
  );
  Object.assign(fieldErrors, ruleErrors);

  if (Object.keys(fieldErrors).length > 0) {
    throw new InvalidInputError(Object.values(fieldErrors).flat().join(' '), fieldErrors);
  }
  return change as Partial<LocalApiSettings>;
}

export function validateTokenId(tokenId: unknown): string {
  try {
    return tokenIdSchema.validateSync(tokenId);
  } catch (error) {
    if (!(error instanceof yup.ValidationError)) throw error;
    throw new InvalidInputError(error.message, { tokenId: error.errors });
  }
}

function rejectArgument(method: LocalApiMethod, input: unknown): void {
  if (input !== undefined) throw new InvalidInputError(`${method} takes no argument.`);
}

/** The functions behind `window.localApi`. Each accepts untrusted input and returns errors as results instead of rejecting. */
export type LocalApiHandlers = {
  getSettings(input?: unknown): Promise<IpcResult<LocalApiSettings>>;
  updateSettings(change: unknown): Promise<IpcResult<LocalApiSettings>>;
  getStatus(input?: unknown): Promise<IpcResult<SidecarStatus>>;
  listTokens(input?: unknown): Promise<IpcResult<TokenInfo[]>>;
  revokeToken(tokenId: unknown): Promise<IpcResult<null>>;
  revokeAllTokens(input?: unknown): Promise<IpcResult<null>>;
  /** Subscribes to status changes and returns the function that unsubscribes. */
  onStatus(listener: (status: SidecarStatus) => void): () => void;
  /** Subscribes to possible token changes. With a controller that has no such event, the listener is never called. */
  onTokensChanged(listener: () => void): () => void;
};

/** A controller that may also report token changes, as LocalApiHost does. */
export type LocalApiControllerWithTokenEvents = LocalApiController & {
  onTokensChanged?(listener: () => void): () => void;
};

/** Turns an exception into an error result. Only validation errors carry field errors. */
function errorResult(method: LocalApiMethod, error: unknown, log: HostLog | undefined): { ok: false; error: LocalApiError } {
  if (error instanceof InvalidInputError) {
    const result: LocalApiError = { code: 'INVALID_INPUT', message: error.message };
    if (error.fieldErrors !== undefined) result.fieldErrors = error.fieldErrors;
    return { ok: false, error: result };
  }
  if (error instanceof InvalidSettingsError) {
    return { ok: false, error: { code: 'INVALID_INPUT', message: error.message } };
  }
  log?.error({ method, err: error }, 'local API request from the Settings page failed');
  // Only the message crosses to the page: a stack trace would tell the user nothing they can act on.
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, error: { code: 'OPERATION_FAILED', message: `${method} failed: ${message}` } };
}

async function run<T>(method: LocalApiMethod, log: HostLog | undefined, body: () => T | Promise<T>): Promise<IpcResult<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (error) {
    return errorResult(method, error, log);
  }
}

/** Builds the handlers over a host controller; the preload and the tests reach these same functions. */
export function createLocalApiHandlers(controller: LocalApiControllerWithTokenEvents, log?: HostLog): LocalApiHandlers {
  return {
    getSettings: (input) =>
      run('getSettings', log, () => {
        rejectArgument('getSettings', input);
        return controller.getSettings();
      }),
    updateSettings: (change) =>
      run('updateSettings', log, () => controller.updateSettings(validateSettingsChange(change, controller.getSettings()))),
    getStatus: (input) =>
      run('getStatus', log, () => {
        rejectArgument('getStatus', input);
        return controller.getStatus();
      }),
    listTokens: (input) =>
      run('listTokens', log, () => {
        rejectArgument('listTokens', input);
        return controller.listTokens();
      }),
    revokeToken: (tokenId) =>
      run('revokeToken', log, async () => {
        await controller.revokeToken(validateTokenId(tokenId));
        return null;
      }),
    revokeAllTokens: (input) =>
      run('revokeAllTokens', log, async () => {
        rejectArgument('revokeAllTokens', input);
        await controller.revokeAllTokens();
        return null;
      }),
    onStatus: (listener) => controller.onStatus(listener),
    onTokensChanged: (listener) => controller.onTokensChanged?.(listener) ?? (() => undefined),
  };
}

export type StatusTarget = Pick<WebContents, 'send' | 'isDestroyed'>;

const HANDLER_METHODS: readonly LocalApiMethod[] = [
  'getSettings',
  'updateSettings',
  'getStatus',
  'listTokens',
  'revokeToken',
  'revokeAllTokens',
];

/**
 * Registers every handler with `ipcMain.handle` and pushes status and token
 * changes to the Settings window. Calls from any other web contents are rejected with
 * FORBIDDEN_SENDER. Returns a function that removes the handlers and both
 * subscriptions.
 */
export function registerLocalApiIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  handlers: LocalApiHandlers,
  getWebContents: () => StatusTarget | null,
): () => void {
  for (const method of HANDLER_METHODS) {
    ipcMain.handle(LOCAL_API_CHANNELS[method], async (event, ...args: unknown[]) => {
      const window = getWebContents();
      if (window === null || event.sender !== window) {
        return { ok: false, error: { code: 'FORBIDDEN_SENDER', message: 'Only the Settings window may call the local API.' } };
      }
      if (args.length > 1) {
        return { ok: false, error: { code: 'INVALID_INPUT', message: `${method} takes at most one argument.` } };
      }
      return handlers[method](args[0]);
    });
  }

  const sendToWindow = (channel: LocalApiChannel, ...args: unknown[]) => {
    const window = getWebContents();
    if (window !== null && !window.isDestroyed()) window.send(channel, ...args);
  };
  const unsubscribeStatus = handlers.onStatus((status) => sendToWindow(LOCAL_API_CHANNELS.status, status));
  const unsubscribeTokens = handlers.onTokensChanged(() => sendToWindow(LOCAL_API_CHANNELS.tokensChanged));

  return () => {
    unsubscribeStatus();
    unsubscribeTokens();
    for (const method of HANDLER_METHODS) ipcMain.removeHandler(LOCAL_API_CHANNELS[method]);
  };
}

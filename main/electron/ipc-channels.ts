// IPC channel names and the typed API that the preload script exposes to the Settings page as `window.localApi`.

import type { SidecarStatus, TokenInfo } from '../../shared/protocol.js';
import type { LocalApiSettings } from '../../shared/settings.js';

/** Channel of each request handler, plus `status` and `tokensChanged`, which the main process pushes to the window. */
export const LOCAL_API_CHANNELS = {
  getSettings: 'local-api:get-settings',
  updateSettings: 'local-api:update-settings',
  getStatus: 'local-api:get-status',
  listTokens: 'local-api:list-tokens',
  revokeToken: 'local-api:revoke-token',
  revokeAllTokens: 'local-api:revoke-all-tokens',
  status: 'local-api:status',
  tokensChanged: 'local-api:tokens-changed',
} as const;

export type LocalApiChannel = (typeof LOCAL_API_CHANNELS)[keyof typeof LOCAL_API_CHANNELS];

/** Stable codes of the errors that a handler returns to the page. */
export type LocalApiErrorCode = 'INVALID_INPUT' | 'FORBIDDEN_SENDER' | 'OPERATION_FAILED';

export interface LocalApiError {
  code: LocalApiErrorCode;
  /** Sentence shown to the user. */
  message: string;
  /** Messages per top-level input field, such as `port` or `allowedServers`. */
  fieldErrors?: Record<string, string[]>;
}

/** Result of every handler: errors are returned, not thrown, so that their messages cross IPC intact. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: LocalApiError };

/** API of `window.localApi`. Every value crosses the context bridge as a structured clone. */
export interface LocalApi {
  getSettings(): Promise<IpcResult<LocalApiSettings>>;
  updateSettings(change: Partial<LocalApiSettings>): Promise<IpcResult<LocalApiSettings>>;
  getStatus(): Promise<IpcResult<SidecarStatus>>;
  listTokens(): Promise<IpcResult<TokenInfo[]>>;
  revokeToken(tokenId: string): Promise<IpcResult<null>>;
  revokeAllTokens(): Promise<IpcResult<null>>;
  /** Calls `callback` on every status change and returns the function that unsubscribes. */
  onStatus(callback: (status: SidecarStatus) => void): () => void;
  /** Calls `callback` when tokens may have changed, such as after a revoke or a sidecar exit. Returns the function that unsubscribes. */
  onTokensChanged(callback: () => void): () => void;
}

/** Names of the request handlers: the keys of LocalApi without the two subscriptions. */
export type LocalApiMethod = Exclude<keyof LocalApi, 'onStatus' | 'onTokensChanged'>;

// Messages between the host (Electron main process or the headless Node host) and the sidecar process.

import type { LocalApiSettings } from './settings.js';

/** Settings the sidecar needs; `enabled` stays with the host, which starts and stops the process. */
export type SidecarSettings = Omit<LocalApiSettings, 'enabled'> & {
  /** Path of the desktop database file, opened read-only. */
  databasePath: string;
};

/** Public description of a live token; the token itself never leaves the sidecar. */
export interface TokenInfo {
  /** Opaque id used to revoke the token; it is not the token. */
  id: string;
  userId: string;
  username: string;
  serverUrl: string;
  issuedAt: number;
  expiresAt: number;
}

export type SidecarState = 'starting' | 'listening' | 'stopped' | 'error';

export type SidecarErrorReason =
  | 'PORT_IN_USE'
  | 'PERMISSION_DENIED'
  | 'ADDRESS_UNAVAILABLE'
  | 'DATABASE_UNAVAILABLE'
  | 'CRASH_LOOP'
  | 'START_FAILED';

export interface SidecarStatus {
  state: SidecarState;
  /** Addresses the server listens on, such as `127.0.0.1` and `::1`. */
  addresses: string[];
  port: number | null;
  /** Base URL a script should use, such as `http://127.0.0.1:17878`. */
  baseUrl: string | null;
  pid: number | null;
  reason?: SidecarErrorReason;
  /** Message a person can act on, shown in Settings. */
  message: string;
}

/** Host to sidecar. `configure` is the first message and may be sent again to apply changes live. */
export type HostToSidecarMessage =
  | { type: 'configure'; settings: SidecarSettings }
  | { type: 'listTokens'; requestId: number }
  | { type: 'revokeToken'; tokenId: string }
  | { type: 'revokeAllTokens' }
  | { type: 'shutdown' };

/** Sidecar to host. `ready` is sent once, after the first bind succeeds or fails. */
export type SidecarToHostMessage =
  | { type: 'ready'; pid: number }
  | { type: 'status'; status: SidecarStatus }
  | { type: 'tokens'; requestId: number; tokens: TokenInfo[] }
  | { type: 'tokensChanged' }
  | { type: 'stopped' };

/** Throws at compile time when a switch over message types misses a case. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected message: ${JSON.stringify(value)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

const HOST_MESSAGE_TYPES = new Set(['configure', 'listTokens', 'revokeToken', 'revokeAllTokens', 'shutdown']);
const SIDECAR_MESSAGE_TYPES = new Set(['ready', 'status', 'tokens', 'tokensChanged', 'stopped']);

/** Checks the discriminant of a message that crossed the process boundary. */
export function isHostToSidecarMessage(value: unknown): value is HostToSidecarMessage {
  return isObject(value) && typeof value.type === 'string' && HOST_MESSAGE_TYPES.has(value.type);
}

export function isSidecarToHostMessage(value: unknown): value is SidecarToHostMessage {
  return isObject(value) && typeof value.type === 'string' && SIDECAR_MESSAGE_TYPES.has(value.type);
}

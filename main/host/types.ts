// Interfaces that the host core shares with its launchers and its user interfaces (Electron IPC, headless CLI).

import type { HostToSidecarMessage, SidecarStatus, SidecarToHostMessage, TokenInfo } from '../../shared/protocol.js';
import type { LocalApiSettings } from '../../shared/settings.js';

/** A running sidecar process, whichever way it was started. */
export interface SidecarHandle {
  readonly pid: number | undefined;
  /** Sends a message; does nothing once the process has exited. */
  postMessage(message: HostToSidecarMessage): void;
  onMessage(listener: (message: SidecarToHostMessage) => void): void;
  /** Called once when the process exits; `code` is null when a signal ended it. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /** Ends the process at once (SIGKILL or the Electron equivalent). */
  kill(): void;
}

/** Starts sidecar processes: `utilityProcess` under Electron, `child_process.fork` under plain Node. */
export interface SidecarLauncher {
  launch(): SidecarHandle;
}

/** Operations that the Settings page and the headless CLI may run on the host. */
export interface LocalApiController {
  getSettings(): LocalApiSettings;
  /** Validates, persists and applies a partial change; rejects with InvalidSettingsError. */
  updateSettings(change: Partial<LocalApiSettings>): Promise<LocalApiSettings>;
  getStatus(): SidecarStatus;
  onStatus(listener: (status: SidecarStatus) => void): () => void;
  listTokens(): Promise<TokenInfo[]>;
  revokeToken(tokenId: string): Promise<void>;
  revokeAllTokens(): Promise<void>;
}

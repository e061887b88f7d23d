// Host core of the local API: starts, configures, restarts and stops the sidecar for Electron and the headless CLI.

import { DEFAULT_SETTINGS, parseSettings } from '../../shared/settings.js';
import { DiscoveryFile } from './discovery-file.js';
import { createDefaultHostLog, systemTimers } from './host-log.js';
import { CrashTracker, DEFAULT_RESTART_POLICY } from './restart-policy.js';

import type { HostToSidecarMessage, SidecarSettings, SidecarStatus, SidecarToHostMessage, TokenInfo } from '../../shared/protocol.js';
import type { LocalApiSettings } from '../../shared/settings.js';
import type { HostLog, HostTimers } from './host-log.js';
import type { RestartPolicyOptions } from './restart-policy.js';
import type { SettingsStore } from './settings-store.js';
import type { LocalApiController, SidecarHandle, SidecarLauncher } from './types.js';

/** Time the sidecar gets to exit after a `shutdown` message before it is killed, in ms. */
export const DEFAULT_STOP_TIMEOUT_MS = 3_000;
/** Time the sidecar gets to reply to `listTokens`, in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

export interface LocalApiHostOptions {
  launcher: SidecarLauncher;
  /** Path of the desktop database, passed to the sidecar in every `configure` message. */
  databasePath: string;
  settingsStore: SettingsStore;
  /** Path of the discovery file, written while the API listens; no file is written when omitted. */
  discoveryFilePath?: string;
  log?: HostLog;
  timers?: HostTimers;
  stopTimeoutMs?: number;
  requestTimeoutMs?: number;
  restartPolicy?: Partial<RestartPolicyOptions>;
}

/** State of one launched sidecar process. */
interface SidecarProcess {
  readonly handle: SidecarHandle;
  pid: number | null;
  exited: boolean;
  /** Set when the host asked the sidecar to stop, so its exit is not a crash. */
  stopping: boolean;
  killTimer: unknown;
  readonly exitPromise: Promise<void>;
  readonly resolveExit: () => void;
}

interface PendingTokensRequest {
  readonly sidecar: SidecarProcess;
  readonly resolve: (tokens: TokenInfo[]) => void;
  readonly timer: unknown;
}

const TURNED_OFF_MESSAGE = 'The local API is turned off.';

function inactiveStatus(state: 'stopped' | 'starting' | 'error', message: string, pid: number | null = null): SidecarStatus {
  return { state, addresses: [], port: null, baseUrl: null, pid, message };
}

function describeExit(code: number | null, signal: string | null): string {
  if (signal !== null) return `signal ${signal}`;
  return code !== null ? `exit code ${code}` : 'no exit code';
}

/**
 * Runs the sidecar while the local API is enabled. Settings changes reach a
 * running sidecar as a new `configure` message, without a restart. Turning
 * the API off stops the sidecar, which drops every token because tokens live
 * only in the sidecar's memory. An unexpected exit is restarted with backoff
 * until too many crashes fall into one window (state `error`, reason
 * `CRASH_LOOP`). Public methods that change state run one at a time in call
 * order.
 */
export class LocalApiHost implements LocalApiController {
  private readonly launcher: SidecarLauncher;
  private readonly databasePath: string;
  private readonly settingsStore: SettingsStore;
  private readonly discovery: DiscoveryFile | null;
  private readonly log: HostLog;
  private readonly timers: HostTimers;
  private readonly stopTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly restartPolicy: RestartPolicyOptions;
  private readonly crashTracker: CrashTracker;

  private settings: LocalApiSettings = structuredClone({ ...DEFAULT_SETTINGS });
  private status: SidecarStatus = inactiveStatus('stopped', TURNED_OFF_MESSAGE);
  private current: SidecarProcess | null = null;
  private restartTimer: unknown = null;
  /** True after stop() until the next start(); no sidecar is launched meanwhile. */
  private closed = false;
  private listeningSince: string | null = null;
  private operations: Promise<unknown> = Promise.resolve();
  private nextRequestId = 1;
  private readonly pendingTokens = new Map<number, PendingTokensRequest>();
  private readonly statusListeners = new Set<(status: SidecarStatus) => void>();
  private readonly tokensListeners = new Set<() => void>();

  constructor(options: LocalApiHostOptions) {
    this.launcher = options.launcher;
    this.databasePath = options.databasePath;
    this.settingsStore = options.settingsStore;
    this.log = options.log ?? createDefaultHostLog();
    this.timers = options.timers ?? systemTimers;
    this.discovery = options.discoveryFilePath ? new DiscoveryFile(options.discoveryFilePath, this.log) : null;
    this.stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.restartPolicy = { ...DEFAULT_RESTART_POLICY, ...options.restartPolicy };
    this.crashTracker = new CrashTracker(this.restartPolicy);
  }

  /** Loads the saved settings and launches the sidecar when the API is enabled. */
  start(): Promise<void> {
    return this.serialize(async () => {
      this.closed = false;
      this.settings = await this.settingsStore.load();
      this.log.info({ enabled: this.settings.enabled, port: this.settings.port }, 'local API host started');
      // A second start() must not fork a second sidecar next to a running or restarting one.
      if (this.settings.enabled && this.current === null && this.restartTimer === null) this.launch();
    });
  }

  /** Resolves once pending writes and removals of the discovery file are done, so a caller can announce the file. */
  async discoveryFileSettled(): Promise<void> {
    await this.discovery?.settled();
  }

  /**
   * Stops the sidecar for app quit: a `shutdown` message, then a kill when it
   * has not exited after the stop timeout. Removes the discovery file.
   */
  stop(): Promise<void> {
    return this.serialize(async () => {
      this.closed = true;
      this.cancelRestart();
      await this.stopSidecar();
      this.setStatus(inactiveStatus('stopped', TURNED_OFF_MESSAGE));
      await this.discovery?.remove();
      this.log.info({}, 'local API host stopped');
    });
  }

  getSettings(): LocalApiSettings {
    return structuredClone(this.settings);
  }

  updateSettings(change: Partial<LocalApiSettings>): Promise<LocalApiSettings> {
    return this.serialize(async () => {
      const previous = this.settings;
      const next = parseSettings({ ...previous, ...change });
      await this.settingsStore.save(next);
      this.settings = next;
      const changed = (Object.keys(next) as (keyof LocalApiSettings)[]).filter(
        (key) => JSON.stringify(previous[key]) !== JSON.stringify(next[key]),
      );
      if (changed.length > 0) this.log.info({ changed }, 'settings changed');
      await this.applySettings(previous, next);
      return structuredClone(next);
    });
  }

  getStatus(): SidecarStatus {
    return structuredClone(this.status);
  }

  onStatus(listener: (status: SidecarStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Calls `listener` when tokens may have changed: a login, logout or revoke, or an exit of the sidecar. */
  onTokensChanged(listener: () => void): () => void {
    this.tokensListeners.add(listener);
    return () => this.tokensListeners.delete(listener);
  }

  /**
   * Asks the running sidecar for its live tokens. Returns [] when no sidecar
   * runs or it exits before replying; rejects when it does not reply in time.
   */
  listTokens(): Promise<TokenInfo[]> {
    const sidecar = this.liveProcess();
    if (!sidecar) return Promise.resolve([]);

    const requestId = this.nextRequestId++;
    return new Promise<TokenInfo[]>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.pendingTokens.delete(requestId);
        reject(new Error(`The local API process did not return its token list within ${this.requestTimeoutMs} ms.`));
      }, this.requestTimeoutMs);
      this.pendingTokens.set(requestId, { sidecar, resolve, timer });
      this.post(sidecar, { type: 'listTokens', requestId });
    });
  }

  async revokeToken(tokenId: string): Promise<void> {
    if (typeof tokenId !== 'string' || tokenId === '') throw new TypeError('tokenId must be a non-empty string.');
    const sidecar = this.liveProcess();
    if (!sidecar) return;
    this.log.info({ tokenId }, 'revoking token');
    this.post(sidecar, { type: 'revokeToken', tokenId });
  }

  async revokeAllTokens(): Promise<void> {
    const sidecar = this.liveProcess();
    if (!sidecar) return;
    this.log.info({}, 'revoking all tokens');
    this.post(sidecar, { type: 'revokeAllTokens' });
  }

  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.operations.then(operation);
    this.operations = result.catch(() => undefined);
    return result;
  }

  private async applySettings(previous: LocalApiSettings, next: LocalApiSettings): Promise<void> {
    if (this.closed) return;

    if (!next.enabled) {
      if (!previous.enabled) return;
      this.cancelRestart();
      this.crashTracker.reset();
      await this.stopSidecar();
      this.setStatus(inactiveStatus('stopped', TURNED_OFF_MESSAGE));
      return;
    }

    const sidecar = this.liveProcess();
    if (sidecar) {
      if (JSON.stringify(this.toSidecarSettings(previous)) !== JSON.stringify(this.toSidecarSettings(next))) {
        this.post(sidecar, { type: 'configure', settings: this.toSidecarSettings(next) });
      }
      return;
    }

    // A scheduled restart sends the new settings when it launches.
    if (this.restartTimer !== null) return;

    // Enabled just now, or still enabled after a crash loop: any change is a fresh try.
    this.crashTracker.reset();
    this.launch();
  }

  private toSidecarSettings(settings: LocalApiSettings): SidecarSettings {
    const { enabled: _enabled, ...rest } = settings;
    return { ...structuredClone(rest), databasePath: this.databasePath };
  }

  private liveProcess(): SidecarProcess | null {
    const sidecar = this.current;
    return sidecar && !sidecar.exited && !sidecar.stopping ? sidecar : null;
  }

  private launch(): void {
    this.restartTimer = null;

    let handle: SidecarHandle;
    try {
      handle = this.launcher.launch();
    } catch (error) {
      const message = (error as Error).message.replace(/\.$/, '');
      this.log.error({ error: message }, 'sidecar launch failed');
      this.handleCrash(`The local API process could not be started: ${message}.`, 'START_FAILED');
      return;
    }

    let resolveExit!: () => void;
    const exitPromise = new Promise<void>((resolve) => (resolveExit = resolve));
    const sidecar: SidecarProcess = {
      handle,
      pid: handle.pid ?? null,
      exited: false,
      stopping: false,
      killTimer: null,
      exitPromise,
      resolveExit,
    };
    this.current = sidecar;
    handle.onMessage((message) => this.handleMessage(sidecar, message));
    handle.onExit((code, signal) => this.handleExit(sidecar, code, signal));

    this.log.info({ pid: sidecar.pid }, 'sidecar started');
    this.setStatus(inactiveStatus('starting', 'The local API is starting.', sidecar.pid));
    this.post(sidecar, { type: 'configure', settings: this.toSidecarSettings(this.settings) });
  }

  private post(sidecar: SidecarProcess, message: HostToSidecarMessage): void {
    if (sidecar.exited) return;
    try {
      sidecar.handle.postMessage(message);
    } catch (error) {
      this.log.error({ pid: sidecar.pid, type: message.type, error: (error as Error).message }, 'message to sidecar failed');
    }
  }

  private handleMessage(sidecar: SidecarProcess, message: SidecarToHostMessage): void {
    if (sidecar.exited) return;
    switch (message.type) {
      case 'ready':
        sidecar.pid = message.pid ?? sidecar.pid;
        this.log.info({ pid: sidecar.pid }, 'sidecar ready');
        break;
      case 'status':
        if (sidecar === this.current && !sidecar.stopping) this.applySidecarStatus(sidecar, message.status);
        break;
      case 'tokens': {
        const pending = this.pendingTokens.get(message.requestId);
        if (!pending || pending.sidecar !== sidecar) break;
        this.pendingTokens.delete(message.requestId);
        this.timers.clearTimeout(pending.timer);
        pending.resolve(message.tokens);
        break;
      }
      case 'tokensChanged':
        this.notifyTokensChanged();
        break;
      case 'stopped':
        this.log.info({ pid: sidecar.pid }, 'sidecar closed its servers');
        break;
      default: {
        const unexpected: never = message;
        this.log.warn({ pid: sidecar.pid, type: (unexpected as { type?: unknown }).type }, 'unknown message from sidecar');
      }
    }
  }

  private applySidecarStatus(sidecar: SidecarProcess, status: SidecarStatus): void {
    const pid = status.pid ?? sidecar.pid;
    const previous = this.status;
    this.setStatus({ ...structuredClone(status), pid });

    if (status.state !== 'listening' || status.port === null || status.baseUrl === null) {
      this.listeningSince = null;
      void this.discovery?.remove();
      return;
    }

    const sameListener =
      previous.state === 'listening' && previous.port === status.port && previous.baseUrl === status.baseUrl;
    if (!sameListener || this.listeningSince === null) {
      this.listeningSince = new Date(this.timers.now()).toISOString();
    }
    void this.discovery?.write({
      port: status.port,
      pid,
      baseUrl: status.baseUrl,
      addresses: [...status.addresses],
      startedAt: this.listeningSince,
    });
  }

  private handleExit(sidecar: SidecarProcess, code: number | null, signal: string | null): void {
    if (sidecar.exited) return;
    sidecar.exited = true;
    if (sidecar.killTimer !== null) this.timers.clearTimeout(sidecar.killTimer);
    this.settlePendingTokens(sidecar);

    if (sidecar.stopping) {
      this.log.info({ pid: sidecar.pid, code, signal }, 'sidecar exited');
    } else {
      this.log.warn({ pid: sidecar.pid, code, signal }, 'sidecar exited unexpectedly');
    }
    sidecar.resolveExit();
    this.notifyTokensChanged();

    if (sidecar !== this.current) return;
    this.current = null;
    this.listeningSince = null;
    if (sidecar.stopping) return;

    void this.discovery?.remove();
    if (this.closed || !this.settings.enabled) {
      this.setStatus(inactiveStatus('stopped', TURNED_OFF_MESSAGE));
      return;
    }
    this.handleCrash(`The local API process exited unexpectedly (${describeExit(code, signal)}).`);
  }

  /** Schedules a restart with backoff, or gives up with `CRASH_LOOP` after too many crashes in the window. */
  private handleCrash(description: string, reason?: 'START_FAILED'): void {
    const decision = this.crashTracker.recordCrash(this.timers.now());

    if (decision.action === 'give-up') {
      const windowSeconds = Math.round(this.restartPolicy.windowMs / 1000);
      this.log.error(
        { crashes: decision.crashes, windowMs: this.restartPolicy.windowMs },
        'sidecar crashed too often; no more restarts',
      );
      this.setStatus({
        ...inactiveStatus(
          'error',
          `${description} It failed ${decision.crashes} times within ${windowSeconds} s, so it is no longer ` +
            'restarted. Check the app log, then change a setting or turn the local API off and on to try again.',
        ),
        reason: 'CRASH_LOOP',
      });
      return;
    }

    this.log.warn({ delayMs: decision.delayMs, crashes: decision.crashes }, `restarting sidecar in ${decision.delayMs} ms`);
    const message = `${description} Restarting in ${decision.delayMs} ms.`;
    this.setStatus(
      reason ? { ...inactiveStatus('error', message), reason } : inactiveStatus('starting', message),
    );
    this.restartTimer = this.timers.setTimeout(() => {
      this.restartTimer = null;
      if (this.closed || !this.settings.enabled || this.current) return;
      this.launch();
    }, decision.delayMs);
  }

  private cancelRestart(): void {
    if (this.restartTimer === null) return;
    this.timers.clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  /** Asks the current sidecar to shut down, kills it after the stop timeout, and waits for its exit. */
  private async stopSidecar(): Promise<void> {
    const sidecar = this.current;
    if (!sidecar) return;

    if (!sidecar.stopping) {
      sidecar.stopping = true;
      this.listeningSince = null;
      void this.discovery?.remove();
      this.log.info({ pid: sidecar.pid }, 'stopping sidecar');
      this.post(sidecar, { type: 'shutdown' });
      sidecar.killTimer = this.timers.setTimeout(() => {
        if (sidecar.exited) return;
        this.log.warn(
          { pid: sidecar.pid, timeoutMs: this.stopTimeoutMs },
          'sidecar did not exit after shutdown; killing it',
        );
        sidecar.handle.kill();
      }, this.stopTimeoutMs);
    }
    await sidecar.exitPromise;
  }

  private settlePendingTokens(sidecar: SidecarProcess): void {
    for (const [requestId, pending] of this.pendingTokens) {
      if (pending.sidecar !== sidecar) continue;
      this.pendingTokens.delete(requestId);
      this.timers.clearTimeout(pending.timer);
      pending.resolve([]);
    }
  }

  private setStatus(next: SidecarStatus): void {
    if (JSON.stringify(next) === JSON.stringify(this.status)) return;
    this.status = next;
    this.log.info(
      { state: next.state, reason: next.reason, port: next.port, pid: next.pid, message: next.message },
      'status changed',
    );
    for (const listener of this.statusListeners) {
      try {
        listener(structuredClone(next));
      } catch (error) {
        this.log.error({ error: (error as Error).message }, 'status listener failed');
      }
    }
  }

  private notifyTokensChanged(): void {
    for (const listener of this.tokensListeners) {
      try {
        listener();
      } catch (error) {
        this.log.error({ error: (error as Error).message }, 'tokens listener failed');
      }
    }
  }
}

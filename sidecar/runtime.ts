// The sidecar's state machine: applies host messages to the app, the listeners and the token store.

import { assertNever, type HostToSidecarMessage, type SidecarSettings, type SidecarStatus, type SidecarToHostMessage } from '../shared/protocol.js';
import { createApp, type AppOptions, type AppSettings } from './app.js';
import { DesktopDatabase } from './database.js';
import { createDocsMiddleware } from './docs/index.js';
import { logger } from './log.js';
import { BindError, Listeners } from './server.js';
import type { TokenStore } from './auth/tokens.js';

export interface RuntimeOptions {
  send: (message: SidecarToHostMessage) => void;
  exit: (code: number) => void;
  /** Test hooks passed on to the app, such as a fake signaling check. */
  appOptions?: Partial<Pick<AppOptions, 'verify' | 'signaling' | 'throttle' | 'now'>>;
}

function baseUrlOf(addresses: string[], port: number): string {
  const host = addresses.includes('127.0.0.1') || addresses.includes('0.0.0.0') ? '127.0.0.1' : '[::1]';
  return `http://${host}:${port}`;
}

export class SidecarRuntime {
  private settings: SidecarSettings | undefined;
  private database: DesktopDatabase | undefined;
  private tokens: TokenStore | undefined;
  private listeners: Listeners | undefined;
  private readySent = false;
  private stopping = false;
  /** Serializes configure messages, so that rebinds never overlap. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: RuntimeOptions) {}

  handle(message: HostToSidecarMessage): void {
    switch (message.type) {
      case 'configure':
        this.enqueue(() => this.configure(message.settings));
        return;
      // Token messages wait behind earlier configure messages, so a list never shows tokens a configure revokes.
      case 'listTokens':
        this.enqueue(async () => {
          this.options.send({ type: 'tokens', requestId: message.requestId, tokens: this.tokens?.list() ?? [] });
        });
        return;
      case 'revokeToken':
        this.enqueue(async () => {
          if (this.tokens?.revokeById(message.tokenId)) {
            logger.info({ tokenId: message.tokenId }, 'revoked a token from Settings');
            this.options.send({ type: 'tokensChanged' });
          }
        });
        return;
      case 'revokeAllTokens':
        this.enqueue(async () => {
          const count = this.tokens?.revokeAll() ?? 0;
          logger.info({ count }, 'revoked all tokens from Settings');
          this.options.send({ type: 'tokensChanged' });
        });
        return;
      case 'shutdown':
        this.enqueue(() => this.shutdown());
        return;
      default:
        assertNever(message);
    }
  }

  /** Current settings in the shape the app reads on each request. */
  private appSettings(): AppSettings {
    const settings = this.settings;
    if (!settings) throw new Error('The sidecar has no settings yet.');
    return settings;
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((error: unknown) => {
      logger.error({ err: error }, 'applying a host message failed');
    });
  }

  private async configure(next: SidecarSettings): Promise<void> {
    if (this.stopping) return;
    const previous = this.settings;
    this.settings = next;

    if (!this.database || previous?.databasePath !== next.databasePath) {
      await this.database?.close();
      this.database = new DesktopDatabase({ path: next.databasePath });
    }
    if (!this.listeners || previous?.databasePath !== next.databasePath) {
      this.buildApp(this.database);
    }

    const revoked = this.tokens?.revokeServersNotIn(next.allowedServers) ?? 0;
    if (revoked > 0) {
      logger.info({ count: revoked }, 'revoked tokens of signaling servers removed from the allow-list');
      this.options.send({ type: 'tokensChanged' });
    }

    await this.bind(next);
  }

  private buildApp(database: DesktopDatabase): void {
    const { app, tokens } = createApp({
      database,
      settings: () => this.appSettings(),
      tokens: this.tokens,
      beforeRoutes: [
        createDocsMiddleware({
          isScalarEnabled: () => this.appSettings().scalarDocs,
          isDocusaurusEnabled: () => this.appSettings().docusaurusDocs,
        }),
      ],
      ...this.options.appOptions,
    });
    this.tokens = tokens;
    tokens.onChange = () => this.options.send({ type: 'tokensChanged' });
    const handler = app.callback();
    if (this.listeners) {
      this.listeners.setHandler(handler);
    } else {
      this.listeners = new Listeners(handler);
    }
  }

  private async bind(settings: SidecarSettings): Promise<void> {
    const listeners = this.listeners;
    if (!listeners) return;
    const target = { port: settings.port, exposeOnLan: settings.exposeOnLan };
    if (listeners.isBoundTo(target)) {
      this.sendReady();
      return;
    }
    this.sendStatus({ state: 'starting', addresses: [], port: settings.port, baseUrl: null, pid: process.pid, message: `Starting on port ${settings.port}.` });
    try {
      const addresses = await listeners.bind(target);
      const baseUrl = baseUrlOf(addresses, settings.port);
      this.sendReady();
      this.sendStatus({
        state: 'listening',
        addresses,
        port: settings.port,
        baseUrl,
        pid: process.pid,
        message: settings.exposeOnLan
          ? `Listening on ${baseUrl} and on this machine's LAN addresses; anyone on the network can reach it.`
          : `Listening on ${baseUrl}.`,
      });
    } catch (error) {
      if (!(error instanceof BindError)) throw error;
      logger.error({ port: settings.port, reason: error.reason }, error.message);
      this.sendReady();
      this.sendStatus({ state: 'error', addresses: [], port: settings.port, baseUrl: null, pid: process.pid, reason: error.reason, message: error.message });
    }
  }

  private sendReady(): void {
    if (this.readySent) return;
    this.readySent = true;
    this.options.send({ type: 'ready', pid: process.pid });
  }

  private sendStatus(status: SidecarStatus): void {
    this.options.send({ type: 'status', status });
  }

  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    logger.info({ event: 'stop' }, 'stopping');
    this.tokens?.revokeAll();
    await this.listeners?.closeAll();
    await this.database?.close();
    this.sendStatus({ state: 'stopped', addresses: [], port: null, baseUrl: null, pid: process.pid, message: 'Stopped.' });
    this.options.send({ type: 'stopped' });
    this.options.exit(0);
  }
}

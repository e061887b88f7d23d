// Runs the sidecar's Koa app in this process on 127.0.0.1 with an ephemeral port, for route tests.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createApp, type AppOptions, type AppSettings } from '../../sidecar/app.js';
import type { TokenStore } from '../../sidecar/auth/tokens.js';
import { DesktopDatabase, type DatabaseOptions } from '../../sidecar/database.js';

export const DEMO_PASSWORD = 'correct horse battery staple';
export const DEMO_SERVER_URL = 'https://signal.test';

export interface TestServer {
  baseUrl: string;
  port: number;
  settings: AppSettings;
  tokens: TokenStore;
  database: DesktopDatabase;
  close(): Promise<void>;
  /** Logs in as the demo user through a fake signaling check and returns the token. */
  login(): Promise<string>;
}

/** Accepts the demo account the way the development signaling server does, without a network call. */
export const fakeVerify: NonNullable<AppOptions['verify']> = async (_serverUrl, credentials) => {
  if (credentials.username === 'alice' && credentials.password === DEMO_PASSWORD) {
    return { outcome: 'accepted', user: { id: 'user-alice-01', username: 'alice', displayName: 'Alice' } };
  }
  if (credentials.username === 'muse' && credentials.password === 'hunter2 hunter2') {
    return { outcome: 'accepted', user: { id: 'user-muse-01', username: 'muse', displayName: 'Muse' } };
  }
  return { outcome: 'rejected' };
};

export async function startTestServer(
  databasePath: string,
  options: Partial<Omit<AppOptions, 'database' | 'settings'>> & {
    settings?: Partial<AppSettings>;
    databaseOptions?: Partial<DatabaseOptions>;
  } = {},
): Promise<TestServer> {
  const settings: AppSettings = {
    port: 0,
    exposeOnLan: false,
    allowedOrigins: [],
    allowedServers: [DEMO_SERVER_URL],
    scalarDocs: false,
    docusaurusDocs: false,
    ...options.settings,
  };
  const database = new DesktopDatabase({ path: databasePath, identityCheckIntervalMs: 0, reopenDelayMs: 0, ...options.databaseOptions });
  const { databaseOptions: _databaseOptions, settings: _settings, ...appOptions } = options;
  const { app, tokens } = createApp({ verify: fakeVerify, ...appOptions, database, settings: () => settings });
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  settings.port = port;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    port,
    settings,
    tokens,
    database,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
    async login() {
      const response = await fetch(`${baseUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: DEMO_PASSWORD, serverUrl: DEMO_SERVER_URL }),
      });
      const body = (await response.json()) as { token?: string };
      if (response.status !== 200 || !body.token) throw new Error(`login failed with ${response.status}: ${JSON.stringify(body)}`);
      return body.token;
    },
  };
}

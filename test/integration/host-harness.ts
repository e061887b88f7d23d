// Shared setup of the host integration tests: a real LocalApiHost driving the compiled sidecar over loopback.

import { Agent } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';

import nodeFetch from 'node-fetch';

import { readDiscoveryFile } from '../../main/host/discovery-file.js';
import { startDevSignalingServer } from '../../fixtures/dev-signaling-server.js';
import { LocalApiHost } from '../../main/host/local-api-host.js';
import { MemorySettingsStore } from '../../main/host/settings-store.js';
import { ChildProcessLauncher } from '../../main/node/child-process-launcher.js';
import { copyDemoDatabase, makeTempDir } from '../helpers/fixture-db.js';
import { RecordingLog } from '../main/host/fake-sidecar.js';
import { freePort } from '../helpers/ports.js';

import type { DevSignalingServer } from '../../fixtures/dev-signaling-server.js';
import type { DiscoveryInfo } from '../../main/host/discovery-file.js';
import type { SidecarStatus } from '../../shared/protocol.js';
import type { LocalApiSettings } from '../../shared/settings.js';

export { freePort };

export const ALICE = { username: 'alice', password: 'correct horse battery staple' };

/**
 * Agent without keep-alive, because a pooled socket to a sidecar that has
 * since moved port or been killed fails with a socket error instead of
 * reaching the current server.
 */
const freshConnections = new Agent({ keepAlive: false });

export interface HttpResult {
  status: number;
  body: unknown;
}

/** Sends one request on a new connection and parses a JSON body when there is one. */
export async function request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpResult> {
  const response = await nodeFetch(url, { ...init, agent: freshConnections });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Non-JSON bodies, such as the HTML of /docs, stay text.
  }
  return { status: response.status, body };
}

/** Finds a free loopback port by binding port 0; another process may take it before the sidecar binds. */
export interface HostHarness {
  host: LocalApiHost;
  log: RecordingLog;
  sidecarLines: string[];
  signaling: DevSignalingServer[];
  discoveryFilePath: string;
  close(): Promise<void>;
}

/** Starts a host with the API disabled, a fresh copy of the demo database and `signalingCount` dev servers. */
export async function createHostHarness(signalingCount = 1, settings: Partial<LocalApiSettings> = {}): Promise<HostHarness> {
  const databasePath = await copyDemoDatabase();
  const stateDir = await makeTempDir('host-integration-');
  const signaling: DevSignalingServer[] = [];
  for (let index = 0; index < signalingCount; index += 1) signaling.push(await startDevSignalingServer({ port: 0 }));

  const log = new RecordingLog();
  const sidecarLines: string[] = [];
  const discoveryFilePath = join(stateDir, 'local-api.json');
  const host = new LocalApiHost({
    launcher: new ChildProcessLauncher({ onLogLine: ({ line, pid }) => sidecarLines.push(`[${pid}] ${line}`) }),
    databasePath,
    settingsStore: new MemorySettingsStore({
      allowedServers: signaling.map((server) => server.url),
      port: await freePort(),
      ...settings,
    }),
    discoveryFilePath,
    log,
  });
  await host.start();

  return {
    host,
    log,
    sidecarLines,
    signaling,
    discoveryFilePath,
    async close() {
      await host.stop();
      await Promise.all(signaling.map((server) => server.close()));
    },
  };
}

/** Resolves with the first status, current or later, that `accept` takes; rejects after `timeoutMs`. */
export function waitForStatus(
  host: LocalApiHost,
  accept: (status: SidecarStatus) => boolean,
  timeoutMs = 15_000,
): Promise<SidecarStatus> {
  return new Promise((resolve, reject) => {
    if (accept(host.getStatus())) {
      resolve(host.getStatus());
      return;
    }
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching status within ${timeoutMs} ms; last: ${JSON.stringify(host.getStatus())}`));
    }, timeoutMs);
    const unsubscribe = host.onStatus((status) => {
      if (!accept(status)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(status);
    });
  });
}

export function isListeningOn(port: number): (status: SidecarStatus) => boolean {
  return (status) => status.state === 'listening' && status.port === port;
}

/** Logs in through the API and returns the token. */
export async function login(port: number, serverUrl: string): Promise<string> {
  const response = await request(`http://127.0.0.1:${port}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...ALICE, serverUrl }),
  });
  const token = (response.body as { token?: unknown }).token;
  if (response.status !== 200 || typeof token !== 'string') {
    throw new Error(`login failed with ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return token;
}

export interface ProfileResult {
  status: number;
  code?: string;
  username?: string;
}

export async function getProfile(port: number, token: string): Promise<ProfileResult> {
  const response = await request(`http://127.0.0.1:${port}/api/profile`, { headers: { authorization: `Bearer ${token}` } });
  const body = response.body as { code?: string; username?: string };
  return { status: response.status, code: body.code, username: body.username };
}

/** Opens a TCP connection to the port and returns the error code, such as ECONNREFUSED, or null when it connects. */
export function connectionError(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve('ETIMEDOUT');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

const POLL_INTERVAL_MS = 25;
const POLL_ATTEMPTS = 200;

/**
 * Polls the discovery file until it names `port`, or is gone when `port` is
 * null, because the host writes it in the background after a status change.
 * Returns the last content read.
 */
export async function waitForDiscovery(path: string, port: number | null): Promise<DiscoveryInfo | null> {
  let info: DiscoveryInfo | null = null;
  for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt += 1) {
    info = await readDiscoveryFile(path);
    if (port === null ? info === null : info?.port === port) return info;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  return info;
}

/** Polls `url` until it returns `expected`, because the sidecar applies a configure asynchronously; returns the last status. */
export async function pollStatusCode(url: string, expected: number): Promise<number> {
  let status = 0;
  for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt += 1) {
    status = (await request(url)).status;
    if (status === expected) return status;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  return status;
}

/** Closes a harness after a test, printing the sidecar's last log lines first when the test failed. */
export async function closeHarnessAfterTest(harness: HostHarness | undefined, testState: string | undefined): Promise<void> {
  if (testState === 'failed' && harness) console.log(harness.sidecarLines.slice(-40).join('\n'));
  await harness?.close();
}

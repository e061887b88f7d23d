// The real sidecar process under the plain-Node host: loopback-only listeners, IPv6 loopback, LAN mode, secret-free logs and recovery from kill -9.

import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';

import { expect } from 'chai';

import { DEMO_IDS } from '../../fixtures/generate.js';
import { DEV_ACCOUNTS, startDevSignalingServer, type DevSignalingServer } from '../../fixtures/dev-signaling-server.js';
import { LocalApiHost } from '../../main/host/local-api-host.js';
import { MemorySettingsStore } from '../../main/host/settings-store.js';
import { ChildProcessLauncher, type SidecarLogLine } from '../../main/node/child-process-launcher.js';
import type { SidecarStatus } from '../../shared/protocol.js';
import type { LocalApiSettings } from '../../shared/settings.js';
import { RecordingLog } from '../main/host/fake-sidecar.js';
import { copyDemoDatabase } from '../helpers/fixture-db.js';
import { request } from '../helpers/openapi-check.js';

type Json = Record<string, any>;

/** Upper bound on waiting for the sidecar to listen or restart; its restart backoff starts at 100 ms. */
const STATUS_WAIT_MS = 10_000;

const ALICE = DEV_ACCOUNTS.find((account) => account.username === 'alice')!;
const MUSE = DEV_ACCOUNTS.find((account) => account.username === 'muse')!;

interface RunningHost {
  host: LocalApiHost;
  port: number;
  lines: SidecarLogLine[];
  hostLog: RecordingLog;
  databasePath: string;
  signaling: DevSignalingServer;
  signalingLines: string[];
}

/** Returns a port that was free on 127.0.0.1 and ::1 a moment ago; settings require a fixed port of 1024 or more. */
async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Tells whether this machine can bind the IPv6 loopback address. */
async function hasIpv6Loopback(): Promise<boolean> {
  const probe = createTcpServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(0, '::1', resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    if (probe.listening) await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}

function waitForStatus(host: LocalApiHost, predicate: (status: SidecarStatus) => boolean, what: string): Promise<SidecarStatus> {
  const current = host.getStatus();
  if (predicate(current)) return Promise.resolve(current);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`Timed out after ${STATUS_WAIT_MS} ms waiting for ${what}; last status: ${JSON.stringify(host.getStatus())}`));
    }, STATUS_WAIT_MS);
    const unsubscribe = host.onStatus((status) => {
      if (!predicate(status)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(status);
    });
  });
}

/** Starts the plain-Node host with the real sidecar, a copy of the demo database and a development signaling server. */
async function startHost(settings: Partial<LocalApiSettings> = {}, env: NodeJS.ProcessEnv = {}): Promise<RunningHost> {
  const signalingLines: string[] = [];
  const signaling = await startDevSignalingServer({ log: (line) => signalingLines.push(line) });
  const lines: SidecarLogLine[] = [];
  const hostLog = new RecordingLog();
  const databasePath = await copyDemoDatabase();
  const port = await freePort();
  const host = new LocalApiHost({
    launcher: new ChildProcessLauncher({ onLogLine: (entry) => lines.push(entry), env: { ...process.env, ...env } }),
    databasePath,
    settingsStore: new MemorySettingsStore({ enabled: true, port, allowedServers: [signaling.url], ...settings }),
    log: hostLog,
  });
  await host.start();
  await waitForStatus(host, (status) => status.state === 'listening', 'the sidecar to listen');
  return { host, port, lines, hostLog, databasePath, signaling, signalingLines };
}

async function stopHost(running: RunningHost | undefined): Promise<void> {
  if (!running) return;
  await running.host.stop();
  await running.signaling.close();
}

function login(baseUrl: string, signalingUrl: string, username: string, password: string) {
  return request<Json>(baseUrl, '/api/auth/login', { method: 'POST', body: { username, password, serverUrl: signalingUrl } });
}

/** Addresses of this machine's own non-loopback interfaces, with the zone id that link-local IPv6 needs. */
function ownInterfaceAddresses(): string[] {
  const addresses: string[] = [];
  for (const [name, entries] of Object.entries(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      const linkLocal = entry.family === 'IPv6' && entry.address.toLowerCase().startsWith('fe80:');
      addresses.push(linkLocal ? `${entry.address}%${name}` : entry.address);
    }
  }
  return addresses;
}

/** Resolves with the socket error code, or 'connected' when something accepted the connection. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timed out');
    }, 2_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

/**
 * Sends a request after the sidecar rebound or restarted. The old listener
 * closed its keep-alive connections, and fetch may still pick one from its
 * pool, so a network error (a TypeError) gets one retry on a new connection.
 */
async function requestAfterRebind(baseUrl: string, path: string, options: Parameters<typeof request>[2] = {}) {
  try {
    return await request<Json>(baseUrl, path, options);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return request<Json>(baseUrl, path, options);
  }
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

describe('sidecar process', function () {
  this.timeout(30_000);
  let running: RunningHost | undefined;

  afterEach(async () => {
    await stopHost(running);
    running = undefined;
  });

  describe('listeners', () => {
    it('serves IPv6 loopback, or reports 127.0.0.1 only', async () => {
      running = await startHost();
      const status = running.host.getStatus();
      const ipv4 = await request<Json>(`http://127.0.0.1:${running.port}`, '/api/health');
      expect(ipv4.status).to.equal(200);

      if (await hasIpv6Loopback()) {
        expect(status.addresses).to.deep.equal(['127.0.0.1', '::1']);
        const ipv6 = await request<Json>(`http://[::1]:${running.port}`, '/api/health');
        expect(ipv6.status).to.equal(200);
        expect(ipv6.body.status).to.equal('ok');
        const token = (await login(`http://[::1]:${running.port}`, running.signaling.url, ALICE.username, ALICE.password)).body.token as string;
        const rooms = await request<Json>(`http://[::1]:${running.port}`, '/api/rooms', { token });
        expect(rooms.status).to.equal(200);
      } else {
        // Documented fallback: without IPv6 the optional ::1 listener is skipped and scripts use 127.0.0.1.
        expect(status.addresses).to.deep.equal(['127.0.0.1']);
      }
      expect(status.baseUrl).to.equal(`http://127.0.0.1:${running.port}`);

      // localhost resolves to 127.0.0.1 or ::1 depending on the machine, and both must work.
      const byName = await request<Json>(`http://localhost:${running.port}`, '/api/health');
      expect(byName.status).to.equal(200);
    });

    it('listens on nothing but loopback with LAN off', async () => {
      running = await startHost();
      const status = running.host.getStatus();
      for (const address of status.addresses) {
        expect(['127.0.0.1', '::1'], 'status lists loopback addresses only').to.include(address);
      }

      const ownAddresses = ownInterfaceAddresses();
      for (const address of ownAddresses) {
        expect(await tryConnect(address, running.port), `connection to own address ${address}`).to.equal('ECONNREFUSED');
      }
      expect(await tryConnect('127.0.0.1', running.port), 'the loopback listener accepts, so the refusals above are meaningful').to.equal('connected');
    });

    it('reports exposeOnLan in health with LAN on', async () => {
      running = await startHost();
      await running.host.updateSettings({ exposeOnLan: true });
      const status = await waitForStatus(running.host, (next) => next.state === 'listening' && next.addresses.includes('0.0.0.0'), 'LAN listeners');

      expect(status.addresses[0]).to.equal('0.0.0.0');
      const health = await requestAfterRebind(`http://127.0.0.1:${running.port}`, '/api/health');
      expect(health.status).to.equal(200);
      expect(health.body.exposeOnLan).to.equal(true);

      await running.host.updateSettings({ exposeOnLan: false });
      await waitForStatus(running.host, (next) => next.state === 'listening' && !next.addresses.includes('0.0.0.0'), 'loopback listeners again');
      const back = await requestAfterRebind(`http://127.0.0.1:${running.port}`, '/api/health');
      expect(back.body.exposeOnLan).to.equal(false);
    });
  });

  it('logs no password, token or token digest', async () => {
    running = await startHost({}, { LOCAL_API_LOG_LEVEL: 'debug' });
    const baseUrl = `http://127.0.0.1:${running.port}`;
    const signalingUrl = running.signaling.url;
    const wrongPasswords = [1, 2, 3].map(() => `wrong-${randomBytes(12).toString('hex')}`);
    const bogusToken = `local_${randomBytes(32).toString('base64url')}`;

    const first = await login(baseUrl, signalingUrl, ALICE.username, ALICE.password);
    expect(first.status).to.equal(200);
    const firstToken = first.body.token as string;
    expect((await request<Json>(baseUrl, '/api/profile', { token: firstToken })).status).to.equal(200);
    expect((await request<Json>(baseUrl, `/api/rooms/${DEMO_IDS.roomId}/messages?limit=5`, { token: firstToken })).status).to.equal(200);
    expect((await request<Json>(baseUrl, `/api/rooms?access_token=${firstToken}`)).status).to.equal(401);
    expect((await request<Json>(baseUrl, '/api/profile', { token: bogusToken })).status).to.equal(401);

    const second = await login(baseUrl, signalingUrl, ALICE.username, ALICE.password);
    const secondToken = second.body.token as string;
    expect((await running.host.listTokens()).length).to.equal(2);
    expect((await request<Json>(baseUrl, '/api/auth/logout', { method: 'POST', token: secondToken })).status).to.equal(204);
    expect((await request<Json>(baseUrl, '/api/profile', { token: secondToken })).status).to.equal(401);

    for (const password of wrongPasswords) {
      expect((await login(baseUrl, signalingUrl, ALICE.username, password)).status).to.equal(401);
    }
    expect((await login(baseUrl, signalingUrl, MUSE.username, MUSE.password)).status).to.equal(403);
    expect((await login(baseUrl, 'https://not-allowed.test', ALICE.username, ALICE.password)).status).to.equal(403);
    const malformed = await request<Json>(baseUrl, '/api/auth/login', {
      method: 'POST',
      rawBody: `{"username":"alice","password":"${ALICE.password}",`,
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).to.equal(400);
    await running.host.revokeAllTokens();

    const stopped = running;
    running = undefined;
    await stopHost(stopped);

    const output = [
      ...stopped.lines.map((entry) => entry.line),
      ...stopped.hostLog.entries.map((entry) => JSON.stringify(entry)),
      ...stopped.signalingLines,
    ].join('\n');
    expect(stopped.lines.some((entry) => entry.line.includes('"level":20')), 'debug lines were written').to.equal(true);
    expect(stopped.lines.filter((entry) => entry.line.includes('"msg":"request"')).length, 'each request was logged').to.be.at.least(10);

    const tokens = [firstToken, secondToken, bogusToken];
    const secrets: Array<[string, string]> = [
      ['the password', ALICE.password],
      ['the other account password', MUSE.password],
      ...wrongPasswords.map((password, index): [string, string] => [`wrong password ${index + 1}`, password]),
      ...tokens.map((token, index): [string, string] => [`token ${index + 1}`, token]),
      ...tokens.map((token, index): [string, string] => [`token ${index + 1} without its prefix`, token.slice('local_'.length)]),
      ...tokens.map((token, index): [string, string] => [`SHA-256 of token ${index + 1}`, createHash('sha256').update(token).digest('hex')]),
    ];
    for (const [name, secret] of secrets) {
      expect(output.includes(secret), `${name} appears in the logs`).to.equal(false);
    }
  });

  it('restarts after kill -9 under load', async () => {
    running = await startHost();
    const baseUrl = `http://127.0.0.1:${running.port}`;
    const hashBefore = await sha256File(running.databasePath);
    const firstPid = running.host.getStatus().pid;
    expect(firstPid).to.be.a('number');
    const oldToken = (await login(baseUrl, running.signaling.url, ALICE.username, ALICE.password)).body.token as string;

    let stopLoad = false;
    const outcomes = { ok: 0, failed: 0 };
    const loadDeadline = performance.now() + 15_000;
    const worker = async () => {
      // Bounded by a request count and a deadline, whichever comes first.
      for (let sent = 0; sent < 2_000 && !stopLoad && performance.now() < loadDeadline; sent += 1) {
        try {
          const response = await fetch(`${baseUrl}/api/rooms`, { headers: { authorization: `Bearer ${oldToken}` }, signal: AbortSignal.timeout(2_000) });
          await response.arrayBuffer();
          if (response.status === 200) outcomes.ok += 1;
          else outcomes.failed += 1;
        } catch {
          outcomes.failed += 1;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    };
    const workers = Array.from({ length: 8 }, () => worker());

    try {
      while (outcomes.ok < 50 && performance.now() < loadDeadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(outcomes.ok, 'requests flowed before the kill').to.be.at.least(50);
      process.kill(firstPid!, 'SIGKILL');

      const restarted = await waitForStatus(
        running.host,
        (status) => status.state === 'listening' && status.pid !== null && status.pid !== firstPid,
        'a restarted sidecar',
      );
      expect(restarted.port).to.equal(running.port);
    } finally {
      stopLoad = true;
      await Promise.all(workers);
    }

    expect(running.hostLog.entries.some((entry) => entry.message === 'sidecar exited unexpectedly' && entry.fields.signal === 'SIGKILL')).to.equal(true);
    const health = await requestAfterRebind(baseUrl, '/api/health');
    expect(health.status).to.equal(200);

    const stale = await requestAfterRebind(baseUrl, '/api/rooms', { token: oldToken });
    expect(stale.status, 'tokens live in the killed process memory only').to.equal(401);
    const relogin = await requestAfterRebind(baseUrl, '/api/auth/login', {
      method: 'POST',
      body: { username: ALICE.username, password: ALICE.password, serverUrl: running.signaling.url },
    });
    expect(relogin.status).to.equal(200);
    const rooms = await requestAfterRebind(baseUrl, '/api/rooms', { token: relogin.body.token as string });
    expect(rooms.status).to.equal(200);
    expect(rooms.body.rooms.map((room: Json) => room.id)).to.include(DEMO_IDS.roomId);
    expect(await sha256File(running.databasePath), 'the database file is unchanged').to.equal(hashBefore);
  });
});

// Starts the servers under test: the sidecar the way the headless host does (host core, forked child, login), and the bare baseline.

import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

import { DEV_ACCOUNTS, startDevSignalingServer } from '../fixtures/dev-signaling-server.js';
import { LocalApiHost } from '../main/host/local-api-host.js';
import { MemorySettingsStore } from '../main/host/settings-store.js';
import { ChildProcessLauncher } from '../main/node/child-process-launcher.js';

import type { DevSignalingServer } from '../fixtures/dev-signaling-server.js';
import type { SidecarStatus } from '../shared/protocol.js';
import type { HostLog } from '../main/host/host-log.js';
import type { SidecarHandle, SidecarLauncher } from '../main/host/types.js';
import type { BaselineListeningMessage } from './baseline-server.js';

/** Time a server gets to start listening before the benchmark gives up, in ms. */
const START_TIMEOUT_MS = 30_000;
/** Time the baseline gets to exit after its IPC channel closes, in ms. */
const BASELINE_STOP_TIMEOUT_MS = 3_000;
const DEMO_USERNAME = 'alice';
const BASELINE_PATH = fileURLToPath(new URL('./baseline-server.js', import.meta.url));

export interface ServerUnderTest {
  name: 'sidecar' | 'baseline';
  baseUrl: string;
  pid: number;
  /** Headers every request to this server needs, such as the bearer token. */
  headers: Record<string, string>;
  stop(): Promise<void>;
}

/** The last lines that the servers and the host printed, shown when a start fails. */
export class LogTail {
  private readonly lines: string[] = [];

  constructor(private readonly maxLines = 40) {}

  add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.maxLines) this.lines.shift();
  }

  text(): string {
    return this.lines.join('\n');
  }

  /** Returns a host log that keeps lines here instead of printing them between the benchmark's own output. */
  hostLog(): HostLog {
    const write = (level: string) => (fields: Record<string, unknown>, message: string) =>
      this.add(`[host ${level}] ${message} ${JSON.stringify(fields)}`);
    return { info: write('info'), warn: write('warn'), error: write('error') };
  }
}

/**
 * Finds a TCP port that is free on 127.0.0.1 and on ::1, because the sidecar
 * binds both and its settings do not accept port 0.
 */
export async function findFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await listenAndClose('127.0.0.1', 0);
    try {
      await listenAndClose('::1', port);
      return port;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') return port;
      if (code !== 'EADDRINUSE') throw error;
    }
  }
  throw new Error('No port was free on both 127.0.0.1 and ::1 after 20 tries.');
}

function listenAndClose(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host === '::1', exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      server.close(() => resolve(bound));
    });
  });
}

/** Resolves with the first `listening` or `error` status of the host; rejects when none arrives in time. */
function waitForOutcome(host: LocalApiHost): Promise<SidecarStatus> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`The sidecar did not report listening within ${START_TIMEOUT_MS / 1000} s.`));
    }, START_TIMEOUT_MS);
    const unsubscribe = host.onStatus((status) => {
      if (status.state !== 'listening' && status.state !== 'error') return;
      clearTimeout(timer);
      unsubscribe();
      resolve(status);
    });
  });
}

/** Wraps a launcher to note when it forks, so that a cold start is timed from the fork. */
class TimedLauncher implements SidecarLauncher {
  forkedAt = Number.NaN;

  constructor(private readonly inner: SidecarLauncher) {}

  launch(): SidecarHandle {
    this.forkedAt = performance.now();
    return this.inner.launch();
  }
}

interface HostRun {
  host: LocalApiHost;
  status: SidecarStatus;
  /** Milliseconds from the fork to the `listening` status reaching the host. */
  coldStartMs: number;
}

/** Starts a LocalApiHost with the API enabled and waits until its sidecar listens. */
async function startHost(databasePath: string, allowedServers: string[], logs: LogTail): Promise<HostRun> {
  const port = await findFreePort();
  const settingsStore = new MemorySettingsStore({ enabled: true, port, allowedServers });
  const launcher = new TimedLauncher(
    new ChildProcessLauncher({
      // Same as the headless host: its own process group, and it exits when the IPC channel closes.
      detached: true,
      onLogLine: ({ line, stream, pid }) => logs.add(`[sidecar ${pid ?? '?'} ${stream}] ${line}`),
    }),
  );
  const host = new LocalApiHost({ launcher, databasePath, settingsStore, log: logs.hostLog() });
  try {
    const outcome = waitForOutcome(host);
    await host.start();
    const status = await outcome;
    const listeningAt = performance.now();
    if (status.state !== 'listening' || status.baseUrl === null || status.pid === null) {
      throw new Error(`The sidecar could not start (${status.reason ?? 'unknown reason'}): ${status.message}`);
    }
    return { host, status, coldStartMs: listeningAt - launcher.forkedAt };
  } catch (error) {
    await host.stop();
    throw error;
  }
}

/**
 * Forks the sidecar `runs` times, one at a time, and returns the time from
 * each fork to its `listening` status, in ms. The database is not opened
 * until the first query, so these times do not depend on its size.
 */
export async function measureColdStarts(databasePath: string, runs: number, logs: LogTail): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const { host, coldStartMs } = await startHost(databasePath, [], logs);
    times.push(Math.round(coldStartMs * 10) / 10);
    await host.stop();
  }
  return times;
}

async function login(baseUrl: string, serverUrl: string): Promise<string> {
  const account = DEV_ACCOUNTS.find((candidate) => candidate.username === DEMO_USERNAME);
  if (account === undefined) throw new Error(`The development signaling server has no ${DEMO_USERNAME} account.`);
  const response = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: account.username, password: account.password, serverUrl }),
  });
  const body = (await response.json()) as { token?: unknown; code?: unknown };
  if (response.status !== 200 || typeof body.token !== 'string') {
    throw new Error(`Login as ${DEMO_USERNAME} failed with status ${response.status} and code ${String(body.code)}.`);
  }
  return body.token;
}

/** Starts the development signaling server and the sidecar, with that server allow-listed, and logs in. */
export async function startSidecar(databasePath: string, logs: LogTail): Promise<ServerUnderTest> {
  const signaling: DevSignalingServer = await startDevSignalingServer();
  let host: LocalApiHost | undefined;
  try {
    const run = await startHost(databasePath, [signaling.url], logs);
    host = run.host;
    const baseUrl = run.status.baseUrl ?? '';
    const token = await login(baseUrl, signaling.url);
    const running = host;
    return {
      name: 'sidecar',
      baseUrl,
      pid: run.status.pid ?? 0,
      headers: { authorization: `Bearer ${token}` },
      async stop() {
        await running.stop();
        await signaling.close();
      },
    };
  } catch (error) {
    await host?.stop();
    await signaling.close();
    throw error;
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Forks the baseline server on the same database file and waits for its port. */
export async function startBaseline(databasePath: string, logs: LogTail): Promise<ServerUnderTest> {
  const child = fork(BASELINE_PATH, [databasePath], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  child.stdout?.on('data', (chunk: Buffer) => logs.add(`[baseline stdout] ${chunk.toString('utf8').trimEnd()}`));
  child.stderr?.on('data', (chunk: Buffer) => logs.add(`[baseline stderr] ${chunk.toString('utf8').trimEnd()}`));

  const stop = async (): Promise<void> => {
    if (child.connected) child.disconnect();
    if (!(await waitForExit(child, BASELINE_STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await waitForExit(child, BASELINE_STOP_TIMEOUT_MS);
    }
  };

  try {
    const listening = await new Promise<BaselineListeningMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`The baseline did not listen within ${START_TIMEOUT_MS / 1000} s.`)), START_TIMEOUT_MS);
      child.once('message', (message: BaselineListeningMessage) => {
        clearTimeout(timer);
        resolve(message);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`The baseline exited before listening (code ${code}, signal ${signal}).`));
      });
    });
    return { name: 'baseline', baseUrl: `http://127.0.0.1:${listening.port}`, pid: listening.pid, headers: {}, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

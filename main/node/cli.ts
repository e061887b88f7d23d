// Headless host (`npm start`): runs the local API sidecar without Electron, with a demo database by default.

import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { DEV_ACCOUNTS, startDevSignalingServer } from '../../fixtures/dev-signaling-server.js';
import { ensureDemoDatabase } from '../../fixtures/generate.js';
import { InvalidSettingsError } from '../../shared/settings.js';
import { LocalApiHost } from '../host/local-api-host.js';
import { MemorySettingsStore } from '../host/settings-store.js';
import { ChildProcessLauncher } from './child-process-launcher.js';
import { CliUsageError, HELP_TEXT, parseCliOptions } from './cli-options.js';
import { createConsoleHostLog, formatLoginExample, ignoreBrokenPipes, processStreams } from './cli-output.js';

import type { DevSignalingServer } from '../../fixtures/dev-signaling-server.js';
import type { SidecarStatus } from '../../shared/protocol.js';
import type { CliOptions } from './cli-options.js';
import type { OutputStreams } from './cli-output.js';

/** Time the sidecar gets to report its first bind, in ms; building the demo database happens before. */
const LISTEN_TIMEOUT_MS = 30_000;
const DISCOVERY_FILE_NAME = 'local-api.json';
const DEMO_DATABASE_NAME = 'demo.sqlite';
const DEMO_USERNAME = 'alice';

/** A start failure the user can act on; the CLI prints the message and exits with status 1. */
class StartError extends Error {
  override name = 'StartError';
}

/** Everything one run started, so that a stop can end all of it. */
class HeadlessRun {
  host: LocalApiHost | null = null;
  signaling: DevSignalingServer | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly streams: OutputStreams) {}

  /** Stops the sidecar, then the signaling server; later calls wait for the first. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.host) await this.host.stop();
      if (this.signaling) {
        try {
          await this.signaling.close();
        } catch (error) {
          this.streams.err(`Closing the development signaling server failed: ${(error as Error).message}\n`);
        }
      }
    })();
    return this.stopping;
  }
}

async function requireFile(path: string): Promise<void> {
  try {
    if ((await stat(path)).isFile()) return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  throw new CliUsageError(`--db: no database file at ${path}.`);
}

/** Resolves with the first `listening` or `error` status, or null when none arrives in time. */
function waitForFirstOutcome(host: LocalApiHost, timeoutMs: number): Promise<SidecarStatus | null> {
  return new Promise((resolveOutcome) => {
    const timer = setTimeout(() => finish(null), timeoutMs);
    const unsubscribe = host.onStatus((status) => {
      if (status.state === 'listening' || status.state === 'error') finish(status);
    });
    function finish(status: SidecarStatus | null): void {
      clearTimeout(timer);
      unsubscribe();
      resolveOutcome(status);
    }
  });
}

async function startSignalingServer(run: HeadlessRun, options: CliOptions, streams: OutputStreams): Promise<string> {
  try {
    run.signaling = await startDevSignalingServer({
      port: options.signalingPort,
      log: (line) => streams.out(`[signaling] ${line}\n`),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'EADDRINUSE' ? ' Pass --signaling-port N, or 0 for any free port.' : '';
    throw new StartError(
      `The development signaling server could not listen on port ${options.signalingPort}: ${(error as Error).message.replace(/\.$/, '')}.${hint}`,
    );
  }
  streams.out(`Development signaling server: ${run.signaling.url}\n`);
  return run.signaling.url;
}

/** Starts everything the options ask for and prints how to call the API; throws CliUsageError or StartError. */
async function startHeadless(run: HeadlessRun, options: CliOptions, streams: OutputStreams): Promise<void> {
  const stateDir = resolve(options.stateDir);
  if (options.databasePath !== null) await requireFile(resolve(options.databasePath));
  await mkdir(stateDir, { recursive: true });

  let databasePath: string;
  const allowedServers = [...options.allowedServers];
  if (options.databasePath !== null) {
    databasePath = resolve(options.databasePath);
  } else {
    databasePath = join(stateDir, DEMO_DATABASE_NAME);
    const built = await ensureDemoDatabase(databasePath);
    streams.out(`${built ? 'Built' : 'Reusing'} the demo database at ${databasePath}\n`);
    const signalingUrl = await startSignalingServer(run, options, streams);
    if (!allowedServers.includes(signalingUrl)) allowedServers.push(signalingUrl);
  }

  let settingsStore: MemorySettingsStore;
  try {
    settingsStore = new MemorySettingsStore({
      enabled: true,
      port: options.port,
      exposeOnLan: options.exposeOnLan,
      allowedServers,
      allowedOrigins: options.allowedOrigins,
      scalarDocs: options.scalarDocs,
      docusaurusDocs: options.docusaurusDocs,
    });
  } catch (error) {
    if (error instanceof InvalidSettingsError) throw new CliUsageError(error.message);
    throw error;
  }

  const launcher = new ChildProcessLauncher({
    // A separate process group keeps a terminal Ctrl-C away from the sidecar, so only the host stops it.
    detached: true,
    onLogLine: ({ line, stream, pid }) => {
      const text = `[sidecar pid:${pid ?? '?'}] ${line}\n`;
      if (stream === 'stdout') streams.out(text);
      else streams.err(text);
    },
  });
  const discoveryFilePath = join(stateDir, DISCOVERY_FILE_NAME);
  run.host = new LocalApiHost({
    launcher,
    databasePath,
    settingsStore,
    discoveryFilePath,
    log: createConsoleHostLog(streams),
  });

  const outcome = waitForFirstOutcome(run.host, LISTEN_TIMEOUT_MS);
  await run.host.start();
  const status = await outcome;
  if (status === null) {
    throw new StartError(`The local API did not report listening within ${LISTEN_TIMEOUT_MS / 1000} s.`);
  }
  if (status.state !== 'listening' || status.baseUrl === null) {
    const hint = status.reason === 'PORT_IN_USE' ? ' Pass --port N to use another port.' : '';
    throw new StartError(`The local API could not start (${status.reason ?? 'unknown reason'}): ${status.message}${hint}`);
  }
  // Scripts may read the discovery file as soon as the URL is printed.
  await run.host.discoveryFileSettled();

  const demoAccount = DEV_ACCOUNTS.find((account) => account.username === DEMO_USERNAME);
  const credentials =
    options.databasePath === null && demoAccount
      ? { username: demoAccount.username, password: demoAccount.password }
      : null;
  streams.out(
    [
      '',
      `The local API listens at ${status.baseUrl} (${status.addresses.join(', ')}).`,
      `Discovery file: ${discoveryFilePath}`,
      '',
      formatLoginExample({ baseUrl: status.baseUrl, serverUrl: allowedServers[0] ?? null, credentials }),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

/** Runs the headless host until SIGINT or SIGTERM; sets the exit status (0, 1 for a failed start, 2 for bad options). */
export async function main(args: string[], streams: OutputStreams = processStreams): Promise<void> {
  let options: CliOptions;
  try {
    options = parseCliOptions(args);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    streams.err(`Error: ${error.message}\nRun "npm start -- --help" to list the options.\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    streams.out(HELP_TEXT);
    return;
  }

  if (streams === processStreams) ignoreBrokenPipes();
  const run = new HeadlessRun(streams);
  const stopOnSignal = (signal: NodeJS.Signals): void => {
    streams.out(`Received ${signal}; stopping.\n`);
    void run.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stopOnSignal);
  process.on('SIGTERM', stopOnSignal);

  try {
    await startHeadless(run, options, streams);
  } catch (error) {
    await run.stop();
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    if (error instanceof CliUsageError) {
      streams.err(`Error: ${error.message}\nRun "npm start -- --help" to list the options.\n`);
      process.exitCode = 2;
    } else if (error instanceof StartError) {
      streams.err(`Error: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      streams.err(`Error: the headless host failed to start: ${(error as Error).message}\n`);
      process.exitCode = 1;
    }
  }
}

const entryPath = process.argv[1];
if (entryPath !== undefined && import.meta.url === pathToFileURL(resolve(entryPath)).href) {
  await main(process.argv.slice(2));
}

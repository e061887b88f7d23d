// End-to-end tests of the headless host: runs dist/main/node/cli.js as a user would, with the real sidecar.

import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { expect } from 'chai';

import { ensureDemoDatabase } from '../../../fixtures/generate.js';
import { readDiscoveryFile } from '../../../main/host/discovery-file.js';

import type { ChildProcess } from 'node:child_process';
import type { Server } from 'node:net';
import { freePort } from '../../helpers/ports.js';

const CLI_PATH = fileURLToPath(new URL('../../../main/node/cli.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;

interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function runCli(args: string[]): CliRun {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitForOutput(run: CliRun, text: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!run.stdout().includes(text)) {
    if (run.child.exitCode !== null) throw new Error(`The CLI exited early:\n${run.stdout()}\n${run.stderr()}`);
    if (Date.now() > deadline) throw new Error(`"${text}" was not printed in time:\n${run.stdout()}\n${run.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('headless host CLI', function () {
  this.timeout(90_000);
  let stateDir: string;
  const runs: CliRun[] = [];

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'headless-cli-'));
    // Built once here so that each run reuses it.
    await ensureDemoDatabase(join(stateDir, 'demo.sqlite'));
  });

  afterEach(async () => {
    for (const run of runs.splice(0)) {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill('SIGKILL');
        await run.exited;
      }
    }
  });

  after(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('prints curl commands that work as printed', async () => {
    const port = await freePort();
    const run = runCli(['--state-dir', stateDir, '--port', String(port), '--signaling-port', '0']);
    runs.push(run);
    await waitForOutput(run, 'Press Ctrl-C to stop.');

    const output = run.stdout();
    expect(output).to.contain(`The local API listens at http://127.0.0.1:${port}`);
    expect(output).to.contain('Reusing the demo database');
    expect(output).to.match(/\[sidecar pid:\d+\] \{/);
    const lines = output.split('\n');
    const start = lines.findIndex((line) => line.startsWith('Keep the token in a shell variable'));
    const commands = lines.slice(start + 1, start + 3).map((line) => line.trim());
    expect(commands[0]).to.match(/^TOKEN=\$\(curl /);

    const { stdout } = await promisify(execFile)('sh', ['-c', commands.join('\n')]);
    const profile = JSON.parse(stdout) as { username?: string };
    expect(profile.username).to.equal('alice');
    expect(output, 'no token is printed before a login').to.not.match(/local_[A-Za-z0-9_-]{20,}/);
  });

  it('stops everything on SIGTERM', async () => {
    const port = await freePort();
    const discoveryPath = join(stateDir, 'local-api.json');
    const run = runCli(['--state-dir', stateDir, '--port', String(port), '--signaling-port', '0']);
    runs.push(run);
    await waitForOutput(run, 'Press Ctrl-C to stop.');
    const discovery = await readDiscoveryFile(discoveryPath);
    const sidecarPid = discovery?.pid ?? 0;
    expect(sidecarPid).to.be.greaterThan(0);
    const signalingUrl = /Development signaling server: (\S+)/.exec(run.stdout())?.[1] ?? '';

    run.child.kill('SIGTERM');

    expect(await run.exited).to.equal(0);
    expect(isAlive(sidecarPid), 'sidecar stopped').to.equal(false);
    expect(await readDiscoveryFile(discoveryPath), 'discovery file removed').to.equal(null);
    let signalingError: unknown;
    try {
      await fetch(`${signalingUrl}/api/auth/verify`, { method: 'POST' });
    } catch (error) {
      signalingError = error;
    }
    expect(signalingError, 'signaling server closed').to.be.instanceOf(Error);
  });

  it('stops cleanly after its output pipe closes', async () => {
    const port = await freePort();
    const discoveryPath = join(stateDir, 'local-api.json');
    const run = runCli(['--state-dir', stateDir, '--port', String(port), '--signaling-port', '0']);
    runs.push(run);
    await waitForOutput(run, 'Press Ctrl-C to stop.');
    const sidecarPid = (await readDiscoveryFile(discoveryPath))?.pid ?? 0;

    // Like `npm start | tee log` when Ctrl-C ends tee first: the host's next writes hit EPIPE.
    run.child.stdout?.destroy();
    run.child.stderr?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    run.child.kill('SIGINT');

    expect(await run.exited).to.equal(0);
    expect(isAlive(sidecarPid), 'sidecar stopped').to.equal(false);
    expect(await readDiscoveryFile(discoveryPath), 'discovery file removed').to.equal(null);
  });

  it('exits 2 on a bad option', async () => {
    const run = runCli(['--port', 'eighty']);

    expect(await run.exited).to.equal(2);
    expect(run.stderr()).to.contain('--port must be a whole number');
    expect(run.stderr()).to.contain('--help');
  });

  it('exits 2 for a missing database', async () => {
    const run = runCli(['--db', join(stateDir, 'missing.sqlite'), '--state-dir', stateDir]);

    expect(await run.exited).to.equal(2);
    expect(run.stderr()).to.contain('no database file at');
  });

  it('exits 1 when the port is in use', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const address = blocker.address();
      const port = address !== null && typeof address !== 'string' ? address.port : 0;
      const run = runCli(['--db', join(stateDir, 'demo.sqlite'), '--state-dir', stateDir, '--port', String(port)]);
      runs.push(run);

      expect(await run.exited).to.equal(1);
      expect(run.stderr()).to.contain('PORT_IN_USE');
      expect(run.stderr()).to.contain('--port N');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('prints the help', async () => {
    const run = runCli(['--help']);

    expect(await run.exited).to.equal(0);
    expect(run.stdout()).to.contain('Usage: npm start -- [options]');
  });
});

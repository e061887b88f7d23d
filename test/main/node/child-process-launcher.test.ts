// Tests of ChildProcessLauncher against a small stand-in sidecar script forked as a real child process.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';

import { LocalApiHost } from '../../../main/host/local-api-host.js';
import { MemorySettingsStore } from '../../../main/host/settings-store.js';
import { ChildProcessLauncher, DEFAULT_SIDECAR_PATH } from '../../../main/node/child-process-launcher.js';
import { RecordingLog } from '../host/fake-sidecar.js';

import type { SidecarHandle } from '../../../main/host/types.js';
import type { SidecarLogLine } from '../../../main/node/child-process-launcher.js';
import type { SidecarToHostMessage } from '../../../shared/protocol.js';

/**
 * Stand-in sidecar: follows the protocol for configure, listTokens and
 * shutdown, prints one stdout and one stderr line, and sends one message
 * that is not part of the protocol.
 */
const STAND_IN_SIDECAR = `
process.on('message', (message) => {
  if (message.type === 'configure') {
    console.log(JSON.stringify({ msg: 'configured', port: message.settings.port }));
    process.send({ type: 'ready', pid: process.pid });
    process.send({ type: 'status', status: {
      state: 'listening', addresses: ['127.0.0.1'], port: message.settings.port,
      baseUrl: 'http://127.0.0.1:' + message.settings.port, pid: process.pid, message: 'listening' } });
  }
  if (message.type === 'listTokens') {
    process.send({ type: 'tokens', requestId: message.requestId, tokens: [] });
  }
  if (message.type === 'shutdown') {
    process.send({ type: 'stopped' });
    setTimeout(() => process.exit(0), 10);
  }
});
process.on('disconnect', () => process.exit(0));
console.error('stand-in sidecar on stderr');
process.send({ kind: 'not a protocol message' });
`;

/** A sidecar that ignores shutdown, so only a kill ends it. */
const STUBBORN_SIDECAR = `
process.on('message', () => {});
setInterval(() => {}, 1000);
`;

interface Exit {
  code: number | null;
  signal: string | null;
}

function waitForExit(handle: SidecarHandle): Promise<Exit> {
  return new Promise((resolve) => handle.onExit((code, signal) => resolve({ code, signal })));
}

function waitForMessage(
  messages: SidecarToHostMessage[],
  handle: SidecarHandle,
  type: SidecarToHostMessage['type'],
): Promise<SidecarToHostMessage> {
  return new Promise((resolve) => {
    handle.onMessage((message) => {
      messages.push(message);
      if (message.type === type) resolve(message);
    });
  });
}

describe('ChildProcessLauncher', () => {
  let tempDir: string;
  let standInPath: string;
  let stubbornPath: string;
  const running: SidecarHandle[] = [];

  before(async () => {
    tempDir = await mkdtemp(join(tmpdir(), 'child-process-launcher-'));
    standInPath = join(tempDir, 'stand-in-sidecar.cjs');
    stubbornPath = join(tempDir, 'stubborn-sidecar.cjs');
    await writeFile(standInPath, STAND_IN_SIDECAR);
    await writeFile(stubbornPath, STUBBORN_SIDECAR);
  });

  afterEach(() => {
    for (const handle of running.splice(0)) handle.kill();
  });

  after(async () => {
    await rm(tempDir, { recursive: true, force: true });
  });

  it('resolves the compiled sidecar path', () => {
    expect(DEFAULT_SIDECAR_PATH.replaceAll('\\', '/')).to.match(/\/dist\/sidecar\/main\.js$/);
  });

  it('exchanges protocol messages', async () => {
    const launcher = new ChildProcessLauncher({ sidecarPath: standInPath, onLogLine: () => undefined });
    const handle = launcher.launch();
    running.push(handle);
    const messages: SidecarToHostMessage[] = [];
    const statusReceived = waitForMessage(messages, handle, 'status');

    handle.postMessage({ type: 'configure', settings: configureSettings(18123) });
    await statusReceived;

    expect(handle.pid).to.be.a('number');
    expect(messages[0]).to.deep.equal({ type: 'ready', pid: handle.pid });
    const status = messages[1];
    expect(status?.type).to.equal('status');
    expect(status?.type === 'status' ? status.status.port : null).to.equal(18123);
  });

  it('forwards log lines with the pid', async () => {
    const lines: SidecarLogLine[] = [];
    const launcher = new ChildProcessLauncher({ sidecarPath: standInPath, onLogLine: (entry) => lines.push(entry) });
    const handle = launcher.launch();
    running.push(handle);
    const exited = waitForExit(handle);

    handle.postMessage({ type: 'configure', settings: configureSettings(18124) });
    await waitForMessage([], handle, 'status');
    handle.postMessage({ type: 'shutdown' });
    await exited;
    // Lines may still sit in the pipe when the exit event fires.
    for (let attempt = 0; attempt < 100 && lines.length < 2; attempt += 1) {
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }

    expect(lines).to.deep.include({ line: '{"msg":"configured","port":18124}', stream: 'stdout', pid: handle.pid });
    expect(lines).to.deep.include({ line: 'stand-in sidecar on stderr', stream: 'stderr', pid: handle.pid });
  });

  it('drops messages outside the protocol', async () => {
    const invalid: unknown[] = [];
    const launcher = new ChildProcessLauncher({
      sidecarPath: standInPath,
      onLogLine: () => undefined,
      onInvalidMessage: (message) => invalid.push(message),
    });
    const handle = launcher.launch();
    running.push(handle);
    const messages: SidecarToHostMessage[] = [];
    const statusReceived = waitForMessage(messages, handle, 'status');

    handle.postMessage({ type: 'configure', settings: configureSettings(18125) });
    await statusReceived;

    expect(invalid).to.deep.equal([{ kind: 'not a protocol message' }]);
    expect(messages.map((message) => message.type)).to.deep.equal(['ready', 'status']);
  });

  it('reports the exit code after shutdown', async () => {
    const launcher = new ChildProcessLauncher({ sidecarPath: standInPath, onLogLine: () => undefined });
    const handle = launcher.launch();
    running.push(handle);
    const exited = waitForExit(handle);

    handle.postMessage({ type: 'shutdown' });

    expect(await exited).to.deep.equal({ code: 0, signal: null });
  });

  it('kills with SIGKILL', async () => {
    const launcher = new ChildProcessLauncher({ sidecarPath: stubbornPath, onLogLine: () => undefined });
    const handle = launcher.launch();
    running.push(handle);
    const exited = waitForExit(handle);

    handle.postMessage({ type: 'shutdown' });
    handle.kill();

    expect(await exited).to.deep.equal({ code: null, signal: 'SIGKILL' });
  });

  it('ignores postMessage after exit', async () => {
    const launcher = new ChildProcessLauncher({ sidecarPath: stubbornPath, onLogLine: () => undefined });
    const handle = launcher.launch();
    const exited = waitForExit(handle);
    handle.kill();
    await exited;

    expect(() => handle.postMessage({ type: 'listTokens', requestId: 1 })).to.not.throw();
    expect(() => handle.kill()).to.not.throw();
    const late = await waitForExit(handle);
    expect(late.signal, 'a late exit listener still learns the exit').to.equal('SIGKILL');
  });

  it('reports a missing sidecar file as an exit', async () => {
    const lines: SidecarLogLine[] = [];
    const launcher = new ChildProcessLauncher({
      sidecarPath: join(tempDir, 'missing.js'),
      onLogLine: (entry) => lines.push(entry),
    });
    const handle = launcher.launch();

    const exit = await waitForExit(handle);

    expect(exit.code).to.equal(1);
    expect(lines.some((entry) => entry.stream === 'stderr' && entry.line.includes('missing.js'))).to.equal(true);
  });

  it('lets the host stop a forked sidecar', async () => {
    const log = new RecordingLog();
    const launcher = new ChildProcessLauncher({ sidecarPath: standInPath, onLogLine: () => undefined });
    const host = new LocalApiHost({
      launcher,
      databasePath: join(tempDir, 'unused.sqlite'),
      settingsStore: new MemorySettingsStore({ enabled: true, port: 18126 }),
      log,
    });
    try {
      const listening = new Promise<void>((resolve) =>
        host.onStatus((status) => {
          if (status.state === 'listening') resolve();
        }),
      );
      await host.start();
      await listening;
      expect(await host.listTokens()).to.deep.equal([]);
    } finally {
      await host.stop();
    }

    expect(host.getStatus().state).to.equal('stopped');
    expect(log.find('sidecar exited')?.fields).to.include({ code: 0 });
    expect(log.find('sidecar exited unexpectedly')).to.equal(undefined);
  });
});

function configureSettings(port: number) {
  return {
    port,
    exposeOnLan: false,
    allowedServers: [],
    allowedOrigins: [],
    scalarDocs: false,
    docusaurusDocs: false,
    databasePath: '/nonexistent/metoyou.sqlite',
  };
}

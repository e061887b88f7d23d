// Tests of UtilityProcessLauncher against fakes of Electron's utilityProcess and MessageChannelMain.

import { expect } from 'chai';
import sinon from 'sinon';

import { SIDECAR_SERVICE_NAME, UtilityProcessLauncher } from '../../../main/electron/utility-process-launcher.js';
import {
  FakeMessageChannelMain,
  FakeMessagePort,
  FakeUtilityProcessModule,
  MemoryLog,
  waitFor,
} from '../../fakes/electron.js';

import type { SidecarToHostMessage } from '../../../shared/protocol.js';
import type { FakeUtilityProcess } from '../../fakes/electron.js';

const MODULE_PATH = '/opt/metoyou/dist/sidecar/main.js';

function setup() {
  const utilityProcess = new FakeUtilityProcessModule();
  const log = new MemoryLog();
  const launcher = new UtilityProcessLauncher({
    utilityProcess,
    MessageChannelMain: FakeMessageChannelMain,
    modulePath: MODULE_PATH,
    log,
  });
  const handle = launcher.launch();
  const child = utilityProcess.forks[0] as FakeUtilityProcess;
  const channel = FakeMessageChannelMain.created.at(-1) as FakeMessageChannelMain;
  return { utilityProcess, log, handle, child, channel };
}

/** Starts the child's end of the port as the sidecar does on its first message. */
function childPort(child: FakeUtilityProcess): { port: FakeMessagePort; received: unknown[] } {
  const port = child.transferredPort();
  const received: unknown[] = [];
  port.on('message', (event) => received.push(event.data));
  port.start();
  return { port, received };
}

describe('UtilityProcessLauncher', () => {
  it('forks the sidecar module with piped output', () => {
    const { utilityProcess, child } = setup();

    expect(utilityProcess.forks).to.have.length(1);
    expect(child.modulePath).to.equal(MODULE_PATH);
    expect(child.args).to.deep.equal([]);
    expect(child.options).to.deep.equal({ serviceName: SIDECAR_SERVICE_NAME, stdio: 'pipe' });
  });

  it('transfers port2 in the first message', () => {
    const { child, channel } = setup();

    expect(child.posted).to.have.length(1);
    expect(child.posted[0]?.message).to.deep.equal({ type: 'port' });
    expect(child.posted[0]?.transfer).to.have.length(1);
    expect(child.posted[0]?.transfer[0]).to.equal(channel.port2);
    expect(channel.port1.started, 'host end started').to.equal(true);
  });

  it('sends host messages over the port only', async () => {
    const { child, handle } = setup();
    const { received } = childPort(child);

    handle.postMessage({ type: 'listTokens', requestId: 7 });
    handle.postMessage({ type: 'revokeAllTokens' });
    await waitFor(() => received.length === 2, 'two messages on the child port');

    expect(received).to.deep.equal([{ type: 'listTokens', requestId: 7 }, { type: 'revokeAllTokens' }]);
    expect(child.posted, 'messages on the process channel').to.have.length(1);
  });

  it('delivers sidecar messages from the port', async () => {
    const { child, handle } = setup();
    const { port } = childPort(child);
    const messages: SidecarToHostMessage[] = [];
    handle.onMessage((message) => messages.push(message));

    port.postMessage({ type: 'ready', pid: 1234 });
    port.postMessage({ type: 'tokensChanged' });
    await waitFor(() => messages.length === 2, 'two messages from the sidecar');

    expect(messages).to.deep.equal([{ type: 'ready', pid: 1234 }, { type: 'tokensChanged' }]);
  });

  it('drops malformed sidecar messages with a warning', async () => {
    const { child, handle, log } = setup();
    const { port } = childPort(child);
    const messages: SidecarToHostMessage[] = [];
    handle.onMessage((message) => messages.push(message));

    port.postMessage({ type: 'format-disk' });
    port.postMessage('ready');
    port.postMessage({ type: 'stopped' });
    await waitFor(() => messages.length === 1, 'the valid message');

    expect(messages).to.deep.equal([{ type: 'stopped' }]);
    const warnings = log.entries.filter((entry) => entry.message === 'dropped a malformed message from the sidecar');
    expect(warnings).to.have.length(2);
  });

  it('pipes stdout and stderr to the log by line', async () => {
    const { child, log } = setup();

    child.stdout.write('{"msg":"first"}\n{"msg":"sec');
    child.stdout.write('ond"}\n\n');
    child.stderr.write('warning: something\n');
    child.stdout.write('last line without newline');
    child.stdout.end();
    await waitFor(
      () => log.entries.filter((entry) => entry.message === 'sidecar output').length === 4,
      'four output lines in the log',
    );

    const output = log.entries.filter((entry) => entry.message === 'sidecar output');
    const stdoutLines = output.filter((entry) => entry.fields.stream === 'stdout');
    expect(stdoutLines.map((entry) => entry.fields.line)).to.deep.equal([
      '{"msg":"first"}',
      '{"msg":"second"}',
      'last line without newline',
    ]);
    expect(stdoutLines.every((entry) => entry.level === 'info')).to.equal(true);
    const stderrLines = output.filter((entry) => entry.fields.stream === 'stderr');
    expect(stderrLines.map((entry) => entry.fields.line)).to.deep.equal(['warning: something']);
    expect(stderrLines[0]?.level).to.equal('warn');
  });

  it('never posts after the process exited', async () => {
    const { child, handle, channel } = setup();
    childPort(child);
    const postSpy = sinon.spy(channel.port1, 'postMessage');
    const exits: [number | null, string | null][] = [];
    handle.onExit((code, signal) => exits.push([code, signal]));

    child.exit(3);
    handle.postMessage({ type: 'shutdown' });
    handle.postMessage({ type: 'revokeAllTokens' });

    expect(postSpy.callCount, 'posts on the port after exit').to.equal(0);
    expect(child.posted, 'posts on the process after exit').to.have.length(1);
    expect(channel.port1.closed, 'host end closed').to.equal(true);
    expect(exits).to.deep.equal([[3, null]]);
  });

  it('ignores sidecar messages that arrive after exit', async () => {
    const { child, handle } = setup();
    const { port } = childPort(child);
    const messages: SidecarToHostMessage[] = [];
    handle.onMessage((message) => messages.push(message));

    port.postMessage({ type: 'stopped' });
    child.exit(0);
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(messages).to.deep.equal([]);
  });

  it('kills through child.kill once', async () => {
    const { child, handle } = setup();
    const exits: (number | null)[] = [];
    handle.onExit((code) => exits.push(code));

    handle.kill();
    await waitFor(() => exits.length === 1, 'the exit after kill');
    handle.kill();

    expect(child.killCalls).to.equal(1);
    expect(exits).to.deep.equal([0]);
  });

  it('reports an exit to a late onExit listener', async () => {
    const { child, handle } = setup();
    child.exit(9);
    const exits: (number | null)[] = [];

    handle.onExit((code) => exits.push(code));
    await waitFor(() => exits.length === 1, 'the late exit report');

    expect(exits).to.deep.equal([9]);
  });

  it('logs a fatal process error instead of throwing', () => {
    const { child, log } = setup();

    expect(() => child.emit('error', 'FatalError', 'v8 heap', '{}')).not.to.throw();
    const errors = log.entries.filter((entry) => entry.level === 'error');
    expect(errors).to.have.length(1);
    expect(errors[0]?.fields.type).to.equal('FatalError');
  });

  it('logs a throwing listener and keeps running', async () => {
    const { child, handle, log } = setup();
    const { port } = childPort(child);
    const messages: SidecarToHostMessage[] = [];
    handle.onMessage(() => {
      throw new Error('listener bug');
    });
    handle.onMessage((message) => messages.push(message));

    port.postMessage({ type: 'tokensChanged' });
    await waitFor(() => messages.length === 1, 'the second listener');

    expect(log.entries.some((entry) => entry.message === 'sidecar event listener threw')).to.equal(true);
  });

  it('exposes the pid once spawned', async () => {
    const { child, handle } = setup();
    await waitFor(() => child.pid !== undefined, 'spawn');

    expect(handle.pid).to.equal(child.pid);
  });
});

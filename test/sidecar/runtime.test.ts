// The sidecar's message handling, driven in-process with real listeners on loopback.

import { createServer } from 'node:net';

import { expect } from 'chai';
import sinon from 'sinon';

import type { SidecarSettings, SidecarStatus, SidecarToHostMessage, TokenInfo } from '../../shared/protocol.js';
import { SidecarRuntime } from '../../sidecar/runtime.js';
import { copyDemoDatabase } from '../helpers/fixture-db.js';
import { DEMO_PASSWORD, DEMO_SERVER_URL, fakeVerify } from '../helpers/api-server.js';
import { freePort } from '../helpers/ports.js';

describe('SidecarRuntime', () => {
  let messages: SidecarToHostMessage[];
  let runtime: SidecarRuntime;
  let exit: sinon.SinonSpy;
  let settings: SidecarSettings;

  function waitFor<T extends SidecarToHostMessage['type']>(type: T, predicate: (message: Extract<SidecarToHostMessage, { type: T }>) => boolean = () => true) {
    return new Promise<Extract<SidecarToHostMessage, { type: T }>>((resolve, reject) => {
      const started = Date.now();
      const poll = () => {
        const found = messages.find((message) => message.type === type && predicate(message as Extract<SidecarToHostMessage, { type: T }>));
        if (found) resolve(found as Extract<SidecarToHostMessage, { type: T }>);
        else if (Date.now() - started > 5000) reject(new Error(`no ${type} message; got ${JSON.stringify(messages)}`));
        else setTimeout(poll, 10);
      };
      poll();
    });
  }

  function listening(port: number) {
    return waitFor('status', (message) => message.status.state === 'listening' && message.status.port === port);
  }

  async function login(port: number): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: DEMO_PASSWORD, serverUrl: DEMO_SERVER_URL }),
    });
    return ((await response.json()) as { token: string }).token;
  }

  async function profileStatus(port: number, token: string): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${port}/api/profile`, { headers: { authorization: `Bearer ${token}` } });
    await response.arrayBuffer();
    return response.status;
  }

  beforeEach(async () => {
    messages = [];
    exit = sinon.spy();
    runtime = new SidecarRuntime({ send: (message) => messages.push(message), exit, appOptions: { verify: fakeVerify } });
    settings = {
      databasePath: await copyDemoDatabase(),
      port: await freePort(),
      exposeOnLan: false,
      allowedServers: [DEMO_SERVER_URL],
      allowedOrigins: [],
      scalarDocs: false,
      docusaurusDocs: false,
    };
  });

  afterEach(async () => {
    await runtime.shutdown();
  });

  it('sends ready and listening after configure', async () => {
    runtime.handle({ type: 'configure', settings });
    const status = (await listening(settings.port)).status as SidecarStatus;
    expect(status.baseUrl).to.equal(`http://127.0.0.1:${settings.port}`);
    expect(status.addresses).to.include('127.0.0.1');
    expect(messages.filter((message) => message.type === 'ready')).to.have.length(1);
  });

  it('reports a port in use without exiting', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(settings.port, '127.0.0.1', resolve));
    try {
      runtime.handle({ type: 'configure', settings });
      const { status } = await waitFor('status', (message) => message.status.state === 'error');
      expect(status.reason).to.equal('PORT_IN_USE');
      expect(status.message).to.include(String(settings.port));
      expect(exit.called).to.equal(false);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('rebinds to a new port and keeps tokens', async () => {
    runtime.handle({ type: 'configure', settings });
    await listening(settings.port);
    const token = await login(settings.port);
    const newPort = await freePort();
    runtime.handle({ type: 'configure', settings: { ...settings, port: newPort } });
    await listening(newPort);
    expect(await profileStatus(newPort, token)).to.equal(200);
    const connectionFailed = await fetch(`http://127.0.0.1:${settings.port}/api/health`).then(
      () => false,
      () => true,
    );
    expect(connectionFailed).to.equal(true);
  });

  it('announces token changes on login and logout', async () => {
    runtime.handle({ type: 'configure', settings });
    await listening(settings.port);
    const token = await login(settings.port);
    expect(messages.filter((message) => message.type === 'tokensChanged')).to.have.length(1);
    await fetch(`http://127.0.0.1:${settings.port}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(messages.filter((message) => message.type === 'tokensChanged')).to.have.length(2);
  });

  it('lists and revokes tokens for the host', async () => {
    runtime.handle({ type: 'configure', settings });
    await listening(settings.port);
    const first = await login(settings.port);
    const second = await login(settings.port);

    runtime.handle({ type: 'listTokens', requestId: 7 });
    const listed = (await waitFor('tokens', (message) => message.requestId === 7)).tokens as TokenInfo[];
    expect(listed).to.have.length(2);
    expect(JSON.stringify(listed)).to.not.include(first);
    expect(listed[0]?.serverUrl).to.equal(DEMO_SERVER_URL);

    runtime.handle({ type: 'revokeToken', tokenId: listed[0]?.id ?? '' });
    expect(await profileStatus(settings.port, first)).to.equal(401);
    expect(await profileStatus(settings.port, second)).to.equal(200);

    runtime.handle({ type: 'revokeAllTokens' });
    expect(await profileStatus(settings.port, second)).to.equal(401);
  });

  it('revokes tokens of a server removed from the allow-list', async () => {
    runtime.handle({ type: 'configure', settings });
    await listening(settings.port);
    const token = await login(settings.port);
    runtime.handle({ type: 'configure', settings: { ...settings, allowedServers: ['https://other.test'] } });
    await waitFor('tokensChanged');
    expect(await profileStatus(settings.port, token)).to.equal(401);
  });

  it('stops on shutdown and exits with 0', async () => {
    runtime.handle({ type: 'configure', settings });
    await listening(settings.port);
    runtime.handle({ type: 'shutdown' });
    await waitFor('stopped');
    expect(exit.calledOnceWith(0)).to.equal(true);
    const connectionFailed = await fetch(`http://127.0.0.1:${settings.port}/api/health`).then(
      () => false,
      () => true,
    );
    expect(connectionFailed).to.equal(true);
  });
});

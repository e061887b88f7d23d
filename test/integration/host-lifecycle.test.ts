// Integration tests of LocalApiHost with the real sidecar: enable, port change, disable and allow-list changes.

import { expect } from 'chai';

import {
  closeHarnessAfterTest,
  connectionError,
  createHostHarness,
  freePort,
  getProfile,
  isListeningOn,
  login,
  pollStatusCode,
  request,
  waitForDiscovery,
  waitForStatus,
} from './host-harness.js';

import type { HostHarness } from './host-harness.js';

describe('LocalApiHost with the real sidecar', function () {
  this.timeout(60_000);
  let harness: HostHarness | undefined;

  afterEach(async function () {
    await closeHarnessAfterTest(harness, this.currentTest?.state);
    harness = undefined;
  });

  it('serves HTTP after enable', async () => {
    harness = await createHostHarness();
    const { host } = harness;
    const { port } = host.getSettings();

    await host.updateSettings({ enabled: true });
    const status = await waitForStatus(host, isListeningOn(port));

    expect(status.baseUrl).to.equal(`http://127.0.0.1:${port}`);
    const health = await request(`http://127.0.0.1:${port}/api/health`);
    expect(health.status).to.equal(200);
    const token = await login(port, harness.signaling[0]?.url ?? '');
    expect(await getProfile(port, token)).to.deep.include({ status: 200, username: 'alice' });
    expect(await host.listTokens()).to.have.length(1);
    const discovery = await waitForDiscovery(harness.discoveryFilePath, port);
    expect(discovery?.port).to.equal(port);
    expect(discovery?.pid).to.equal(status.pid);
    expect(JSON.stringify(discovery), 'no token in the discovery file').to.not.contain(token);
  });

  it('moves to a new port and keeps tokens', async () => {
    harness = await createHostHarness();
    const { host } = harness;
    const oldPort = host.getSettings().port;
    await host.updateSettings({ enabled: true });
    await waitForStatus(host, isListeningOn(oldPort));
    const pid = host.getStatus().pid;
    const token = await login(oldPort, harness.signaling[0]?.url ?? '');

    const newPort = await freePort();
    await host.updateSettings({ port: newPort });
    await waitForStatus(host, isListeningOn(newPort));

    expect(await connectionError(oldPort), 'old port refuses').to.equal('ECONNREFUSED');
    expect(await getProfile(newPort, token), 'token still valid').to.deep.include({ status: 200, username: 'alice' });
    expect(host.getStatus().pid, 'same process').to.equal(pid);
    expect((await waitForDiscovery(harness.discoveryFilePath, newPort))?.port).to.equal(newPort);
  });

  it('drops tokens on disable', async () => {
    harness = await createHostHarness();
    const { host } = harness;
    const { port } = host.getSettings();
    await host.updateSettings({ enabled: true });
    await waitForStatus(host, isListeningOn(port));
    const token = await login(port, harness.signaling[0]?.url ?? '');

    await host.updateSettings({ enabled: false });

    expect(host.getStatus().state).to.equal('stopped');
    expect(await connectionError(port), 'port refuses').to.equal('ECONNREFUSED');
    expect(await waitForDiscovery(harness.discoveryFilePath, null), 'discovery file removed').to.equal(null);
    expect(await host.listTokens()).to.deep.equal([]);

    await host.updateSettings({ enabled: true });
    await waitForStatus(host, isListeningOn(port));

    expect(await getProfile(port, token)).to.deep.include({ status: 401, code: 'INVALID_TOKEN' });
    expect(harness.log.find('sidecar exited unexpectedly'), 'disable is no crash').to.equal(undefined);
  });

  it('revokes tokens of a removed server', async () => {
    harness = await createHostHarness(2);
    const { host, signaling } = harness;
    const { port } = host.getSettings();
    const [removed, kept] = signaling.map((server) => server.url);
    await host.updateSettings({ enabled: true });
    await waitForStatus(host, isListeningOn(port));
    const removedToken = await login(port, removed ?? '');
    const keptToken = await login(port, kept ?? '');

    const revoked = new Promise<void>((resolve) => host.onTokensChanged(resolve));
    await host.updateSettings({ allowedServers: [kept ?? ''] });
    // The sidecar applies configure asynchronously and sends tokensChanged after the revocation.
    await revoked;
    const tokens = await host.listTokens();

    expect(tokens.map((token) => token.serverUrl)).to.deep.equal([kept]);
    expect(await getProfile(port, removedToken)).to.deep.include({ status: 401, code: 'INVALID_TOKEN' });
    expect(await getProfile(port, keptToken)).to.deep.include({ status: 200, username: 'alice' });
  });

  it('applies docs toggles without a restart', async () => {
    harness = await createHostHarness();
    const { host } = harness;
    const { port } = host.getSettings();
    await host.updateSettings({ enabled: true });
    await waitForStatus(host, isListeningOn(port));
    const pid = host.getStatus().pid;
    expect((await request(`http://127.0.0.1:${port}/docs`)).status, 'off by default').to.equal(404);

    await host.updateSettings({ scalarDocs: true });

    expect(await pollStatusCode(`http://127.0.0.1:${port}/docs`, 200)).to.equal(200);
    expect(host.getStatus().pid).to.equal(pid);
  });
});

// Integration tests of crash isolation: the host restarts a killed sidecar and stops after a crash loop.

import { expect } from 'chai';

import {
  closeHarnessAfterTest,
  connectionError,
  createHostHarness,
  getProfile,
  isListeningOn,
  login,
  request,
  waitForStatus,
} from './host-harness.js';

import type { SidecarStatus } from '../../shared/protocol.js';
import type { HostHarness } from './host-harness.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listeningWithNewPid(port: number, oldPid: number): (status: SidecarStatus) => boolean {
  return (status) => isListeningOn(port)(status) && status.pid !== oldPid;
}

describe('LocalApiHost crash isolation', function () {
  this.timeout(60_000);
  let harness: HostHarness | undefined;

  afterEach(async function () {
    await closeHarnessAfterTest(harness, this.currentTest?.state);
    harness = undefined;
  });

  it('restarts a sidecar killed with SIGKILL', async () => {
    harness = await createHostHarness();
    const { host } = harness;
    const { port } = host.getSettings();
    await host.updateSettings({ enabled: true });
    const first = await waitForStatus(host, isListeningOn(port));
    const oldPid = first.pid ?? 0;
    const oldToken = await login(port, harness.signaling[0]?.url ?? '');

    process.kill(oldPid, 'SIGKILL');
    const restarted = await waitForStatus(host, listeningWithNewPid(port, oldPid));

    expect(restarted.pid).to.be.a('number');
    expect(isAlive(oldPid)).to.equal(false);
    expect((await request(`http://127.0.0.1:${port}/api/health`)).status).to.equal(200);
    expect(await getProfile(port, oldToken), 'tokens died with the process').to.deep.include({
      status: 401,
      code: 'INVALID_TOKEN',
    });
    const newToken = await login(port, harness.signaling[0]?.url ?? '');
    expect(await getProfile(port, newToken)).to.deep.include({ status: 200, username: 'alice' });
    const exitEntry = harness.log.find('sidecar exited unexpectedly');
    expect(exitEntry?.fields).to.include({ pid: oldPid, signal: 'SIGKILL' });
    expect(harness.log.find('restarting sidecar in 100 ms')).to.not.equal(undefined);
  });

  it('stops restarting after five crashes', async () => {
    harness = await createHostHarness();
    const { host } = harness;
    const { port } = host.getSettings();
    await host.updateSettings({ enabled: true });
    let status = await waitForStatus(host, isListeningOn(port));

    const killed: number[] = [];
    for (let crash = 1; crash <= 4; crash += 1) {
      const pid = status.pid ?? 0;
      killed.push(pid);
      process.kill(pid, 'SIGKILL');
      status = await waitForStatus(host, listeningWithNewPid(port, pid));
    }
    const lastPid = status.pid ?? 0;
    process.kill(lastPid, 'SIGKILL');
    const crashLoop = await waitForStatus(host, (next) => next.state === 'error');

    expect(crashLoop.reason).to.equal('CRASH_LOOP');
    expect(crashLoop.message).to.contain('5 times within 60 s');
    expect(await connectionError(port)).to.equal('ECONNREFUSED');
    expect(await host.listTokens()).to.deep.equal([]);

    await host.updateSettings({ scalarDocs: true });
    const retried = await waitForStatus(host, listeningWithNewPid(port, lastPid));

    expect(retried.pid).to.not.be.oneOf(killed);
    expect((await request(`http://127.0.0.1:${port}/api/health`)).status).to.equal(200);
  });
});

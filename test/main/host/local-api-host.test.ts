// Unit tests of LocalApiHost against a fake sidecar, with sinon fake timers for backoff and kill timeouts.

import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';
import sinon from 'sinon';

import { readDiscoveryFile } from '../../../main/host/discovery-file.js';
import { LocalApiHost } from '../../../main/host/local-api-host.js';
import { FileSettingsStore, MemorySettingsStore } from '../../../main/host/settings-store.js';
import { InvalidSettingsError } from '../../../shared/settings.js';
import { FakeLauncher, RecordingLog, listeningStatus } from './fake-sidecar.js';

import type { SinonFakeTimers } from 'sinon';
import type { HostTimers } from '../../../main/host/host-log.js';
import type { LocalApiHostOptions } from '../../../main/host/local-api-host.js';
import type { SettingsStore } from '../../../main/host/settings-store.js';
import type { SidecarStatus } from '../../../shared/protocol.js';
import type { LocalApiSettings } from '../../../shared/settings.js';

const DATABASE_PATH = '/data/metoyou.sqlite';

describe('LocalApiHost', () => {
  let clock: SinonFakeTimers;
  let timers: HostTimers;
  let launcher: FakeLauncher;
  let log: RecordingLog;
  let host: LocalApiHost;
  let statuses: SidecarStatus[];
  let tempDir: string;

  function createHost(settingsStore: SettingsStore, extra: Partial<LocalApiHostOptions> = {}): LocalApiHost {
    const created = new LocalApiHost({ launcher, databasePath: DATABASE_PATH, settingsStore, log, timers, ...extra });
    created.onStatus((status) => statuses.push(status));
    return created;
  }

  async function startEnabled(settings: Partial<LocalApiSettings> = {}): Promise<void> {
    host = createHost(new MemorySettingsStore({ enabled: true, ...settings }));
    await host.start();
  }

  /** Crashes the current fake sidecar and advances the clock just enough for the restart. */
  async function crashAndExpectRestartAfter(delayMs: number): Promise<void> {
    const launches = launcher.handles.length;
    launcher.last.exit(1, null);
    await clock.tickAsync(delayMs - 1);
    expect(launcher.handles.length, `no restart before ${delayMs} ms`).to.equal(launches);
    await clock.tickAsync(1);
    expect(launcher.handles.length, `restart at ${delayMs} ms`).to.equal(launches + 1);
  }

  beforeEach(async () => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    timers = {
      setTimeout: (callback, delayMs) => clock.setTimeout(callback, delayMs),
      clearTimeout: (handle) => clock.clearTimeout(handle as Parameters<typeof clock.clearTimeout>[0]),
      now: () => clock.now,
    };
    launcher = new FakeLauncher();
    log = new RecordingLog();
    statuses = [];
    tempDir = await mkdtemp(join(tmpdir(), 'local-api-host-'));
  });

  afterEach(async () => {
    clock.restore();
    await rm(tempDir, { recursive: true, force: true });
  });

  describe('enable and configure', () => {
    it('stays stopped when disabled', async () => {
      host = createHost(new MemorySettingsStore());
      await host.start();

      expect(launcher.handles).to.have.length(0);
      expect(host.getStatus().state).to.equal('stopped');
    });

    it('forks on enable and sends configure first', async () => {
      host = createHost(new MemorySettingsStore({ allowedServers: ['http://localhost:17879/'] }));
      await host.start();

      await host.updateSettings({ enabled: true });

      expect(launcher.handles).to.have.length(1);
      expect(launcher.last.posted).to.have.length(1);
      expect(launcher.last.posted[0]).to.deep.equal({
        type: 'configure',
        settings: {
          port: 17878,
          exposeOnLan: false,
          allowedServers: ['http://localhost:17879'],
          allowedOrigins: [],
          scalarDocs: false,
          docusaurusDocs: false,
          databasePath: DATABASE_PATH,
        },
      });
      expect(host.getStatus().state).to.equal('starting');
      expect(host.getStatus().pid).to.equal(launcher.last.pid);
    });

    it('launches at start when saved settings enable it', async () => {
      await startEnabled();

      expect(launcher.handles).to.have.length(1);
      expect(launcher.last.posted[0]?.type).to.equal('configure');
      expect(log.find('sidecar started')?.fields.pid).to.equal(launcher.last.pid);
    });

    it('launches once when started twice', async () => {
      await startEnabled();

      await host.start();

      expect(launcher.handles).to.have.length(1);
    });

    const changes: { name: string; change: Partial<LocalApiSettings>; expected: Record<string, unknown> }[] = [
      { name: 'port', change: { port: 18080 }, expected: { port: 18080 } },
      { name: 'LAN exposure', change: { exposeOnLan: true }, expected: { exposeOnLan: true } },
      {
        name: 'allowed servers',
        change: { allowedServers: ['https://Chat.Example.com/'] },
        expected: { allowedServers: ['https://chat.example.com'] },
      },
      {
        name: 'allowed origins',
        change: { allowedOrigins: ['http://localhost:3000'] },
        expected: { allowedOrigins: ['http://localhost:3000'] },
      },
      { name: 'Scalar docs', change: { scalarDocs: true }, expected: { scalarDocs: true } },
      { name: 'Docusaurus docs', change: { docusaurusDocs: true }, expected: { docusaurusDocs: true } },
    ];
    for (const { name, change, expected } of changes) {
      it(`sends a configure on a ${name} change`, async () => {
        await startEnabled();
        const handle = launcher.last;
        handle.emitListening(17878);

        await host.updateSettings(change);

        expect(launcher.handles, 'no restart').to.have.length(1);
        const configures = handle.messagesOfType('configure');
        expect(configures).to.have.length(2);
        expect(configures[1]?.settings).to.include({ databasePath: DATABASE_PATH });
        expect(configures[1]?.settings).to.deep.include(expected);
        expect(configures[1]?.settings).to.not.have.property('enabled');
      });
    }

    it('sends no configure when nothing changed', async () => {
      await startEnabled({ port: 18000 });

      await host.updateSettings({ port: 18000 });

      expect(launcher.last.messagesOfType('configure')).to.have.length(1);
    });
  });

  describe('status', () => {
    it('relays sidecar status with each step', async () => {
      host = createHost(new MemorySettingsStore());
      await host.start();
      await host.updateSettings({ enabled: true });
      launcher.last.emitListening(17878);
      await host.updateSettings({ enabled: false });

      expect(statuses.map((status) => status.state)).to.deep.equal(['starting', 'listening', 'stopped']);
      for (const status of statuses) expect(status.message).to.be.a('string').and.not.equal('');
      expect(statuses[1]?.baseUrl).to.equal('http://127.0.0.1:17878');
    });

    it('reports a port in use without restarting', async () => {
      await startEnabled();
      const handle = launcher.last;
      handle.emit({
        type: 'status',
        status: {
          state: 'error',
          reason: 'PORT_IN_USE',
          addresses: [],
          port: null,
          baseUrl: null,
          pid: handle.pid,
          message: 'Port 17878 is in use by another program; choose another port.',
        },
      });
      await clock.tickAsync(30_000);

      expect(host.getStatus().reason).to.equal('PORT_IN_USE');
      expect(launcher.handles).to.have.length(1);
      expect(handle.messagesOfType('configure')).to.have.length(1);

      await host.updateSettings({ port: 18001 });
      handle.emitListening(18001);

      expect(launcher.handles, 'the port change reuses the process').to.have.length(1);
      expect(handle.messagesOfType('configure').at(-1)?.settings.port).to.equal(18001);
      expect(host.getStatus().state).to.equal('listening');
    });

    it('unsubscribes a status listener', async () => {
      host = createHost(new MemorySettingsStore());
      const seen: SidecarStatus[] = [];
      const unsubscribe = host.onStatus((status) => seen.push(status));
      unsubscribe();

      await host.updateSettings({ enabled: true });

      expect(seen).to.have.length(0);
      expect(statuses).to.have.length(1);
    });
  });

  describe('disable and stop', () => {
    it('sends shutdown and kills after the timeout', async () => {
      launcher.exitOnShutdown = false;
      await startEnabled();
      const handle = launcher.last;

      const disabled = host.updateSettings({ enabled: false });
      await clock.tickAsync(0);
      expect(handle.posted.at(-1)?.type).to.equal('shutdown');

      await clock.tickAsync(2_999);
      expect(handle.killed, 'not killed before 3 s').to.equal(false);

      await clock.tickAsync(1);
      await disabled;
      expect(handle.killed, 'killed at 3 s').to.equal(true);
      expect(host.getStatus().state).to.equal('stopped');
      expect(log.find(/killing it/)?.fields).to.include({ pid: handle.pid, timeoutMs: 3_000 });
    });

    it('does not kill a sidecar that exits on shutdown', async () => {
      await startEnabled();
      const handle = launcher.last;

      await host.updateSettings({ enabled: false });
      await clock.tickAsync(10_000);

      expect(handle.exited).to.equal(true);
      expect(handle.killed).to.equal(false);
    });

    it('treats an intended stop as no crash', async () => {
      launcher.exitOnShutdown = false;
      await startEnabled();
      const handle = launcher.last;

      const disabled = host.updateSettings({ enabled: false });
      await clock.tickAsync(0);
      handle.exit(0, null);
      await disabled;
      await clock.tickAsync(60_000);

      expect(launcher.handles).to.have.length(1);
      expect(host.getStatus().state).to.equal('stopped');
      expect(log.find('sidecar exited unexpectedly')).to.equal(undefined);
      expect(log.find('sidecar exited')?.fields).to.include({ code: 0, pid: handle.pid });
    });

    it('does not restart a sidecar killed after the stop timeout', async () => {
      launcher.exitOnShutdown = false;
      await startEnabled();

      const stopped = host.stop();
      await clock.tickAsync(3_000);
      await stopped;
      await clock.tickAsync(60_000);

      expect(launcher.last.killed).to.equal(true);
      expect(launcher.handles).to.have.length(1);
      expect(host.getStatus().state).to.equal('stopped');
    });

    it('launches again after re-enabling', async () => {
      await startEnabled();
      await host.updateSettings({ enabled: false });
      await host.updateSettings({ enabled: true });

      expect(launcher.handles).to.have.length(2);
      expect(launcher.handles[0]?.exited).to.equal(true);
      expect(launcher.last.posted[0]?.type).to.equal('configure');
    });
  });

  describe('crash restarts', () => {
    it('restarts with a doubling backoff', async () => {
      await startEnabled();

      await crashAndExpectRestartAfter(100);
      await crashAndExpectRestartAfter(200);
      await crashAndExpectRestartAfter(400);
      await crashAndExpectRestartAfter(800);

      expect(launcher.last.posted[0]?.type, 'a restarted sidecar is configured first').to.equal('configure');
      expect(log.find('restarting sidecar in 100 ms')?.fields).to.include({ delayMs: 100 });
      expect(log.find('sidecar exited unexpectedly')?.fields).to.include({ code: 1 });
    });

    it('caps the backoff at the maximum delay', async () => {
      host = createHost(new MemorySettingsStore({ enabled: true }), {
        restartPolicy: { maxCrashes: 20, maxDelayMs: 1_000 },
      });
      await host.start();

      for (const delayMs of [100, 200, 400, 800, 1_000, 1_000]) await crashAndExpectRestartAfter(delayMs);
    });

    it('reports the restart in the status', async () => {
      await startEnabled();

      launcher.last.exit(null, 'SIGKILL');
      await clock.tickAsync(0);

      expect(host.getStatus().state).to.equal('starting');
      expect(host.getStatus().message).to.contain('signal SIGKILL').and.contain('100 ms');
    });

    it('stops retrying after a crash loop', async () => {
      await startEnabled();
      for (const delayMs of [100, 200, 400, 800]) await crashAndExpectRestartAfter(delayMs);

      launcher.last.exit(1, null);
      await clock.tickAsync(120_000);

      expect(launcher.handles, 'no launch after the fifth crash').to.have.length(5);
      const status = host.getStatus();
      expect(status.state).to.equal('error');
      expect(status.reason).to.equal('CRASH_LOOP');
      expect(status.message).to.contain('5 times within 60 s');
      expect(log.find(/crashed too often/)?.level).to.equal('error');
    });

    it('retries a crash loop on a settings change', async () => {
      await startEnabled();
      for (const delayMs of [100, 200, 400, 800]) await crashAndExpectRestartAfter(delayMs);
      launcher.last.exit(1, null);
      await clock.tickAsync(0);

      await host.updateSettings({ port: 18002 });

      expect(launcher.handles).to.have.length(6);
      expect(host.getStatus().state).to.equal('starting');
      await crashAndExpectRestartAfter(100);
    });

    it('forgets crashes outside the window', async () => {
      await startEnabled();

      for (let crash = 0; crash < 8; crash += 1) {
        await crashAndExpectRestartAfter(100);
        await clock.tickAsync(61_000);
      }

      expect(host.getStatus().reason).to.equal(undefined);
    });

    it('retries a launch that throws', async () => {
      host = createHost(new MemorySettingsStore());
      launcher.failNextLaunch = new Error('spawn EAGAIN');

      await host.updateSettings({ enabled: true });

      expect(host.getStatus()).to.include({ state: 'error', reason: 'START_FAILED' });
      expect(host.getStatus().message).to.contain('spawn EAGAIN');
      await clock.tickAsync(100);
      expect(launcher.handles).to.have.length(1);
      expect(host.getStatus().state).to.equal('starting');
    });

    it('cancels a scheduled restart on disable', async () => {
      await startEnabled();
      launcher.last.exit(1, null);
      await clock.tickAsync(0);

      await host.updateSettings({ enabled: false });
      await clock.tickAsync(10_000);

      expect(launcher.handles).to.have.length(1);
      expect(host.getStatus().state).to.equal('stopped');
    });

    it('never posts to an exited sidecar', async () => {
      await startEnabled();
      const crashed = launcher.last;
      crashed.exit(1, null);
      await clock.tickAsync(0);

      await host.revokeToken('token-id-1');
      await host.revokeAllTokens();
      expect(await host.listTokens()).to.deep.equal([]);
      await host.updateSettings({ port: 18003 });
      await clock.tickAsync(100);
      await host.updateSettings({ enabled: false });

      expect(crashed.postedAfterExit).to.deep.equal([]);
      for (const handle of launcher.handles) expect(handle.postedAfterExit).to.deep.equal([]);
      expect(launcher.handles[1]?.messagesOfType('configure')[0]?.settings.port, 'restart uses the new port').to.equal(
        18003,
      );
    });
  });

  describe('tokens', () => {
    const token = {
      id: 'tok-1',
      userId: 'user-1',
      username: 'alice',
      serverUrl: 'http://localhost:17879',
      issuedAt: 1,
      expiresAt: 2,
    };

    it('returns [] when stopped', async () => {
      host = createHost(new MemorySettingsStore());
      await host.start();

      expect(await host.listTokens()).to.deep.equal([]);
    });

    it('matches the reply by request id', async () => {
      await startEnabled();
      const handle = launcher.last;

      const listed = host.listTokens();
      const request = handle.messagesOfType('listTokens')[0];
      expect(request).to.not.equal(undefined);
      handle.emit({ type: 'tokens', requestId: (request?.requestId ?? 0) + 100, tokens: [] });
      handle.emit({ type: 'tokens', requestId: request?.requestId ?? 0, tokens: [token] });

      expect(await listed).to.deep.equal([token]);
    });

    it('resolves pending requests with [] on exit', async () => {
      await startEnabled();

      const listed = host.listTokens();
      launcher.last.exit(1, null);

      expect(await listed).to.deep.equal([]);
    });

    it('rejects when the sidecar does not reply', async () => {
      await startEnabled();

      const listed = host.listTokens();
      const settled = listed.then(
        () => null,
        (error: Error) => error,
      );
      await clock.tickAsync(5_000);

      expect((await settled)?.message).to.match(/did not return its token list within 5000 ms/);
    });

    it('forwards revokes', async () => {
      await startEnabled();

      await host.revokeToken('tok-1');
      await host.revokeAllTokens();

      expect(launcher.last.posted.slice(1)).to.deep.equal([
        { type: 'revokeToken', tokenId: 'tok-1' },
        { type: 'revokeAllTokens' },
      ]);
    });

    it('rejects an empty token id', async () => {
      await startEnabled();

      let caught: unknown;
      try {
        await host.revokeToken('');
      } catch (error) {
        caught = error;
      }

      expect(caught).to.be.instanceOf(TypeError);
      expect(launcher.last.messagesOfType('revokeToken')).to.have.length(0);
    });

    it('notifies token listeners', async () => {
      await startEnabled();
      let calls = 0;
      host.onTokensChanged(() => (calls += 1));

      launcher.last.emit({ type: 'tokensChanged' });
      expect(calls).to.equal(1);

      launcher.last.exit(1, null);
      expect(calls, 'an exit drops every token').to.equal(2);
    });
  });

  describe('settings', () => {
    it('persists settings and reloads them', async () => {
      const path = join(tempDir, 'local-api-settings.json');
      host = createHost(new FileSettingsStore(path, log));
      await host.start();

      await host.updateSettings({ port: 18100, scalarDocs: true, allowedServers: ['http://127.0.0.1:17879'] });
      const reloaded = createHost(new FileSettingsStore(path, log));
      await reloaded.start();

      expect(reloaded.getSettings()).to.deep.include({
        port: 18100,
        scalarDocs: true,
        allowedServers: ['http://127.0.0.1:17879'],
      });
      expect((await stat(path)).mode & 0o777).to.equal(0o600);
      expect(await readdir(tempDir), 'no temporary files left').to.deep.equal(['local-api-settings.json']);
    });

    const invalidChanges: { name: string; change: unknown }[] = [
      { name: 'a privileged port', change: { port: 80 } },
      { name: 'a port as text', change: { port: '18000' } },
      { name: 'a fractional port', change: { port: 18000.5 } },
      { name: 'a plain http server', change: { allowedServers: ['http://chat.example.com'] } },
      { name: 'an origin with a path', change: { allowedOrigins: ['http://localhost:3000/app'] } },
      { name: 'an unknown key', change: { colour: 'blue' } },
    ];
    for (const { name, change } of invalidChanges) {
      it(`rejects ${name}`, async () => {
        const path = join(tempDir, 'local-api-settings.json');
        host = createHost(new FileSettingsStore(path, log));
        await host.start();
        await host.updateSettings({ enabled: true });
        const handle = launcher.last;
        const before = host.getSettings();

        let caught: unknown;
        try {
          await host.updateSettings(change as Partial<LocalApiSettings>);
        } catch (error) {
          caught = error;
        }

        expect(caught).to.be.instanceOf(InvalidSettingsError);
        expect((caught as InvalidSettingsError).errors).to.have.length.greaterThan(0);
        expect(host.getSettings()).to.deep.equal(before);
        expect(handle.messagesOfType('configure'), 'nothing sent').to.have.length(1);
        const saved = await new FileSettingsStore(path, log).load();
        expect(saved, 'nothing saved').to.deep.equal(before);
      });
    }

    it('keeps working after a rejected change', async () => {
      await startEnabled();

      await host.updateSettings({ port: 1 }).catch(() => undefined);
      await host.updateSettings({ port: 18004 });

      expect(launcher.last.messagesOfType('configure').at(-1)?.settings.port).to.equal(18004);
    });
  });

  describe('discovery file', () => {
    it('is written while listening and removed on stop', async () => {
      const path = join(tempDir, 'state', 'local-api.json');
      host = createHost(new MemorySettingsStore({ enabled: true }), { discoveryFilePath: path });
      await host.start();
      const handle = launcher.last;
      expect(await readDiscoveryFile(path), 'no file while starting').to.equal(null);

      handle.emitListening(17890);
      await clock.tickAsync(0);
      await waitForFile(path, true);

      const info = await readDiscoveryFile(path);
      expect(info).to.deep.equal({
        port: 17890,
        pid: handle.pid,
        baseUrl: 'http://127.0.0.1:17890',
        addresses: ['127.0.0.1', '::1'],
        startedAt: new Date(clock.now).toISOString(),
      });
      expect((await stat(path)).mode & 0o777).to.equal(0o600);

      await host.stop();
      expect(await readDiscoveryFile(path)).to.equal(null);
    });

    it('is removed when the sidecar reports an error', async () => {
      const path = join(tempDir, 'local-api.json');
      host = createHost(new MemorySettingsStore({ enabled: true }), { discoveryFilePath: path });
      await host.start();
      const handle = launcher.last;
      handle.emitListening(17891);
      await waitForFile(path, true);

      handle.emit({
        type: 'status',
        status: { ...listeningStatus(17891, handle.pid), state: 'error', reason: 'DATABASE_UNAVAILABLE', port: null, baseUrl: null },
      });
      await waitForFile(path, false);

      expect(await readDiscoveryFile(path)).to.equal(null);
    });

    it('is removed after a crash', async () => {
      const path = join(tempDir, 'local-api.json');
      host = createHost(new MemorySettingsStore({ enabled: true }), { discoveryFilePath: path });
      await host.start();
      launcher.last.emitListening(17892);
      await waitForFile(path, true);

      launcher.last.exit(1, null);
      await waitForFile(path, false);

      expect(await readDiscoveryFile(path)).to.equal(null);
    });

    it('replaces a stale file at the next listening status', async () => {
      const path = join(tempDir, 'local-api.json');
      await writeFile(path, '{"port": 1}');
      host = createHost(new MemorySettingsStore({ enabled: true }), { discoveryFilePath: path });
      await host.start();

      launcher.last.emitListening(17893);
      await waitForFile(path, true, (text) => text.includes('17893'));

      expect((await readDiscoveryFile(path))?.port).to.equal(17893);
    });
  });
});

/**
 * Polls the real file system, because discovery writes run in the background
 * and fake timers do not cover file I/O. The loop is bounded by count.
 */
async function waitForFile(path: string, present: boolean, accept: (text: string) => boolean = () => true): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    try {
      const text = await readFile(path, 'utf8');
      if (present && accept(text)) return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (!present) return;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`${path} did not become ${present ? 'present' : 'absent'}`);
}

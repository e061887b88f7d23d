// Tests of the desktop app wiring with fakes of app, BrowserWindow, ipcMain, utilityProcess and shell.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';

import {
  DATABASE_FILE_NAME,
  DISCOVERY_FILE_NAME,
  isLocalApiLink,
  resolveDatabasePath,
  runDesktopApp,
  SETTINGS_FILE_NAME,
} from '../../../main/electron/desktop.js';
import { LOCAL_API_CHANNELS } from '../../../main/electron/ipc-channels.js';
import {
  FakeApp,
  FakeBrowserWindow,
  FakeIpcMain,
  FakeMessageChannelMain,
  FakeShell,
  FakeSidecar,
  FakeUtilityProcessModule,
  MemoryLog,
  waitFor,
} from '../../fakes/electron.js';

import type { DesktopPaths, RunningDesktopApp } from '../../../main/electron/desktop.js';
import type { SidecarStatus } from '../../../shared/protocol.js';

const PATHS: DesktopPaths = {
  sidecarModulePath: '/app/dist/sidecar/main.js',
  preloadPath: '/app/dist/main/electron/preload.cjs',
  settingsPagePath: '/app/dist/main/renderer/settings.html',
  devDatabasePath: '/app/var/demo.sqlite',
};

/** Lets pending promise callbacks and immediates run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

describe('runDesktopApp', () => {
  let userData: string;
  let app: FakeApp;
  let utilityProcess: FakeUtilityProcessModule;
  let ipcMain: FakeIpcMain;
  let shell: FakeShell;
  let sidecars: FakeSidecar[];
  let log: MemoryLog;
  let running: RunningDesktopApp | null;
  let windowsBefore: number;

  beforeEach(async () => {
    userData = await mkdtemp(join(tmpdir(), 'metoyou-desktop-'));
    app = new FakeApp(userData);
    utilityProcess = new FakeUtilityProcessModule();
    sidecars = [];
    utilityProcess.onFork((child) => sidecars.push(new FakeSidecar(child)));
    ipcMain = new FakeIpcMain();
    shell = new FakeShell();
    log = new MemoryLog();
    running = null;
    windowsBefore = FakeBrowserWindow.created.length;
  });

  afterEach(async () => {
    await running?.host.stop();
    await rm(userData, { recursive: true, force: true });
  });

  function start(env: NodeJS.ProcessEnv = {}): Promise<RunningDesktopApp | null> {
    return runDesktopApp(
      { app, BrowserWindow: FakeBrowserWindow, ipcMain, utilityProcess, MessageChannelMain: FakeMessageChannelMain, shell },
      { paths: PATHS, env, platform: 'linux', log },
    );
  }

  function windows(): FakeBrowserWindow[] {
    return FakeBrowserWindow.created.slice(windowsBefore);
  }

  async function enableInSettingsFile(port = 18100): Promise<void> {
    await writeFile(join(userData, SETTINGS_FILE_NAME), JSON.stringify({ enabled: true, port }));
  }

  it('forks nothing before ready', async () => {
    await enableInSettingsFile();
    const started = start();

    await settle();
    expect(utilityProcess.forks, 'forks before ready').to.have.length(0);
    expect(windows(), 'windows before ready').to.have.length(0);
    expect(ipcMain.handlers.size, 'handlers before ready').to.equal(0);

    app.ready();
    running = await started;

    expect(utilityProcess.forks).to.have.length(1);
    expect(utilityProcess.forks[0]?.modulePath).to.equal(PATHS.sidecarModulePath);
    expect(windows()).to.have.length(1);
  });

  it('opens a sandboxed Settings window', async () => {
    app.ready();
    running = await start();

    const window = windows()[0] as FakeBrowserWindow;
    expect(window.options.webPreferences?.contextIsolation).to.equal(true);
    expect(window.options.webPreferences?.nodeIntegration).to.equal(false);
    expect(window.options.webPreferences?.sandbox).to.equal(true);
    expect(window.options.webPreferences?.preload).to.equal(PATHS.preloadPath);
    expect(window.loadedFiles).to.deep.equal([PATHS.settingsPagePath]);
    expect(ipcMain.handlers.size).to.equal(6);
  });

  it('keeps the sidecar off when disabled', async () => {
    app.ready();
    running = await start();

    expect(utilityProcess.forks).to.have.length(0);
    expect(running?.host.getStatus().state).to.equal('stopped');
  });

  it('stores settings and discovery in userData', async () => {
    await enableInSettingsFile(18101);
    app.ready();
    running = await start();
    const discoveryPath = join(userData, DISCOVERY_FILE_NAME);

    await waitFor(() => existsSync(discoveryPath), 'the discovery file');
    const discovery = JSON.parse(await readFile(discoveryPath, 'utf8')) as { port: number; baseUrl: string };
    expect(discovery.port).to.equal(18101);
    expect(discovery.baseUrl).to.equal('http://127.0.0.1:18101');

    const window = windows()[0] as FakeBrowserWindow;
    await ipcMain.invoke(LOCAL_API_CHANNELS.updateSettings, window.webContents, { scalarDocs: true });
    const saved = JSON.parse(await readFile(join(userData, SETTINGS_FILE_NAME), 'utf8')) as { scalarDocs: boolean };
    expect(saved.scalarDocs).to.equal(true);
  });

  it('passes METOYOU_DB to the sidecar', async () => {
    await enableInSettingsFile();
    app.ready();
    running = await start({ METOYOU_DB: '/srv/chat/metoyou.sqlite' });
    await waitFor(() => (sidecars[0]?.received.length ?? 0) > 0, 'the configure message');

    const configure = sidecars[0]?.received[0];
    expect(configure?.type).to.equal('configure');
    expect(configure?.type === 'configure' ? configure.settings.databasePath : null).to.equal('/srv/chat/metoyou.sqlite');
  });

  it('stops the sidecar once before quit', async () => {
    await enableInSettingsFile();
    app.ready();
    running = await start();
    await waitFor(() => running?.host.getStatus().state === 'listening', 'the listening status');
    const sidecar = sidecars[0] as FakeSidecar;

    app.quit();
    app.quit();
    expect(app.quitted, 'quit right away').to.equal(false);
    await waitFor(() => app.quitted, 'the quit after the sidecar stopped');

    expect(sidecar.received.filter((message) => message.type === 'shutdown')).to.have.length(1);
    expect(sidecar.child.exited).to.equal(true);
    expect(running?.host.getStatus().state).to.equal('stopped');
    expect(existsSync(join(userData, DISCOVERY_FILE_NAME)), 'discovery file removed').to.equal(false);
  });

  it('quits at once before ready', async () => {
    const started = start();
    await settle();

    app.quit();

    expect(app.quitted).to.equal(true);
    app.ready();
    running = await started;
  });

  it('survives a sidecar crash', async () => {
    await enableInSettingsFile();
    app.ready();
    running = await start();
    await waitFor(() => running?.host.getStatus().state === 'listening', 'the listening status');
    const window = windows()[0] as FakeBrowserWindow;

    sidecars[0]?.child.exit(134);
    await waitFor(() => running?.host.getStatus().state !== 'listening', 'the status after the crash');

    expect(window.destroyed, 'window closed').to.equal(false);
    const pushed = window.webContents.sent
      .filter((entry) => entry.channel === LOCAL_API_CHANNELS.status)
      .map((entry) => entry.args[0] as SidecarStatus);
    expect(pushed.at(-1)?.message).to.match(/exited unexpectedly \(exit code 134\)/);
    await waitFor(() => utilityProcess.forks.length === 2, 'the restarted sidecar', 5_000);
  });

  it('opens only API links in the browser', async () => {
    await enableInSettingsFile(18102);
    app.ready();
    running = await start();
    await waitFor(() => running?.host.getStatus().state === 'listening', 'the listening status');
    const handler = windows()[0]?.webContents.windowOpenHandler;
    if (handler == null) throw new Error('No window open handler was set.');
    const open = (url: string) =>
      handler({ url, frameName: '', features: '', disposition: 'new-window', referrer: { url: '', policy: 'default' } });

    expect(open('http://127.0.0.1:18102/docs')).to.deep.equal({ action: 'deny' });
    expect(open('https://attacker.example.test/phish')).to.deep.equal({ action: 'deny' });
    expect(open('file:///etc/passwd')).to.deep.equal({ action: 'deny' });
    await settle();

    expect(shell.opened).to.deep.equal(['http://127.0.0.1:18102/docs']);
  });

  it('blocks navigation away from Settings', async () => {
    app.ready();
    running = await start();
    let prevented = false;

    windows()[0]?.webContents.emit('will-navigate', { preventDefault: () => (prevented = true), url: 'https://example.test/' });

    expect(prevented).to.equal(true);
  });

  it('quits when another instance runs', async () => {
    app.hasSingleInstanceLock = false;
    app.ready();

    running = await start();

    expect(running).to.equal(null);
    expect(app.quitted).to.equal(true);
    expect(utilityProcess.forks).to.have.length(0);
    expect(windows()).to.have.length(0);
  });

  it('reopens the window on second instance', async () => {
    app.ready();
    running = await start();
    windows()[0]?.close();
    expect(running?.window()).to.equal(null);

    app.emit('second-instance');

    expect(windows()).to.have.length(2);
    expect(windows()[1]?.focusCalls).to.equal(1);
  });

  it('quits when the last window closes', async () => {
    app.ready();
    running = await start();

    windows()[0]?.close();
    app.emit('window-all-closed');
    await waitFor(() => app.quitted, 'the quit');
  });
});

describe('resolveDatabasePath', () => {
  const userDataPath = '/home/ana/.config/MetoYou';
  const userDatabase = join(userDataPath, DATABASE_FILE_NAME);
  const devDatabasePath = '/src/metoyou/var/demo.sqlite';

  it('prefers METOYOU_DB', () => {
    const path = resolveDatabasePath({
      env: { METOYOU_DB: '/srv/other.sqlite' },
      userDataPath,
      isPackaged: true,
      devDatabasePath,
      exists: () => true,
    });

    expect(path).to.equal('/srv/other.sqlite');
  });

  it('ignores a blank METOYOU_DB', () => {
    const path = resolveDatabasePath({ env: { METOYOU_DB: ' ' }, userDataPath, isPackaged: true, devDatabasePath, exists: () => false });

    expect(path).to.equal(userDatabase);
  });

  it('uses userData when packaged', () => {
    const path = resolveDatabasePath({ env: {}, userDataPath, isPackaged: true, devDatabasePath, exists: () => false });

    expect(path).to.equal(userDatabase);
  });

  it('uses userData when it exists', () => {
    const path = resolveDatabasePath({
      env: {},
      userDataPath,
      isPackaged: false,
      devDatabasePath,
      exists: (candidate) => candidate === userDatabase || candidate === devDatabasePath,
    });

    expect(path).to.equal(userDatabase);
  });

  it('falls back to the demo database', () => {
    const path = resolveDatabasePath({
      env: {},
      userDataPath,
      isPackaged: false,
      devDatabasePath,
      exists: (candidate) => candidate === devDatabasePath,
    });

    expect(path).to.equal(devDatabasePath);
  });

  it('returns userData when nothing exists', () => {
    const path = resolveDatabasePath({ env: {}, userDataPath, isPackaged: false, devDatabasePath, exists: () => false });

    expect(path).to.equal(userDatabase);
  });
});

describe('isLocalApiLink', () => {
  const cases: [string, string | null, boolean][] = [
    ['http://127.0.0.1:17878/docs', 'http://127.0.0.1:17878', true],
    ['http://127.0.0.1:17878/docusaurus/docs/errors', 'http://127.0.0.1:17878', true],
    ['http://127.0.0.1:17879/docs', 'http://127.0.0.1:17878', false],
    ['http://localhost:17878/docs', 'http://127.0.0.1:17878', false],
    ['javascript:alert(1)', 'http://127.0.0.1:17878', false],
    ['not a url', 'http://127.0.0.1:17878', false],
    ['http://127.0.0.1:17878/docs', null, false],
  ];

  for (const [url, baseUrl, expected] of cases) {
    it(`${expected ? 'accepts' : 'rejects'} ${url} for ${baseUrl}`, () => {
      expect(isLocalApiLink(url, baseUrl)).to.equal(expected);
    });
  }
});

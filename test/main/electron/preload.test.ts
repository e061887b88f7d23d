// Tests of the compiled preload script: it runs with a fake 'electron' module and talks to the real IPC handlers.

import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';

import { LOCAL_API_CHANNELS } from '../../../main/electron/ipc-channels.js';
import { createLocalApiHandlers, registerLocalApiIpc } from '../../../main/electron/ipc.js';
import { UtilityProcessLauncher } from '../../../main/electron/utility-process-launcher.js';
import { LocalApiHost } from '../../../main/host/local-api-host.js';
import { MemorySettingsStore } from '../../../main/host/settings-store.js';
import {
  FakeIpcMain,
  FakeMessageChannelMain,
  FakeSidecar,
  FakeUtilityProcessModule,
  FakeWebContents,
  MemoryLog,
  waitFor,
} from '../../fakes/electron.js';

import type { ContextBridge, IpcRenderer } from 'electron';
import type { LocalApi } from '../../../main/electron/ipc-channels.js';
import type { SidecarStatus } from '../../../shared/protocol.js';

const PRELOAD_PATH = fileURLToPath(new URL('../../../main/electron/preload.cjs', import.meta.url));
const requireFromPreload = createRequire(PRELOAD_PATH);
const ELECTRON_PATH = requireFromPreload.resolve('electron');

class FakeContextBridge implements Pick<ContextBridge, 'exposeInMainWorld'> {
  readonly exposed = new Map<string, unknown>();

  exposeInMainWorld(apiKey: string, api: unknown): void {
    if (this.exposed.has(apiKey)) throw new Error(`Cannot bind an API on top of an existing property: ${apiKey}`);
    this.exposed.set(apiKey, api);
  }
}

/** ipcRenderer of the Settings window: `invoke` reaches FakeIpcMain as that window, and window pushes arrive as events. */
class FakeIpcRenderer extends EventEmitter implements Pick<IpcRenderer, 'invoke'> {
  readonly invocations: { channel: string; args: unknown[] }[] = [];

  constructor(
    private readonly ipcMain: FakeIpcMain,
    private readonly sender: FakeWebContents,
  ) {
    super();
  }

  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invocations.push({ channel, args });
    return this.ipcMain.invoke(channel, this.sender, ...args);
  }
}

/** Web contents whose `send` is delivered to the renderer's ipcRenderer with an event first, as in Electron. */
class ConnectedWebContents extends FakeWebContents {
  renderer: FakeIpcRenderer | null = null;

  override send(channel: string, ...args: unknown[]): void {
    super.send(channel, ...args);
    const renderer = this.renderer;
    if (renderer === null) return;
    const event = { sender: renderer, senderId: 0, ports: [] };
    setImmediate(() => renderer.emit(channel, event, ...structuredClone(args)));
  }
}

function loadPreload(electron: { contextBridge: FakeContextBridge; ipcRenderer: FakeIpcRenderer }): void {
  delete requireFromPreload.cache[PRELOAD_PATH];
  requireFromPreload.cache[ELECTRON_PATH] = {
    id: ELECTRON_PATH,
    filename: ELECTRON_PATH,
    loaded: true,
    exports: electron,
  } as NodeJS.Module;
  try {
    requireFromPreload(PRELOAD_PATH);
  } finally {
    delete requireFromPreload.cache[ELECTRON_PATH];
  }
}

describe('Settings preload', () => {
  let host: LocalApiHost;
  let ipcMain: FakeIpcMain;
  let window: ConnectedWebContents;
  let renderer: FakeIpcRenderer;
  let bridge: FakeContextBridge;
  let dispose: () => void;
  let api: LocalApi;

  beforeEach(async () => {
    const log = new MemoryLog();
    const utilityProcess = new FakeUtilityProcessModule();
    utilityProcess.onFork((child) => new FakeSidecar(child));
    host = new LocalApiHost({
      launcher: new UtilityProcessLauncher({
        utilityProcess,
        MessageChannelMain: FakeMessageChannelMain,
        modulePath: '/app/dist/sidecar/main.js',
        log,
      }),
      databasePath: '/data/metoyou.sqlite',
      settingsStore: new MemorySettingsStore(),
      log,
    });
    await host.start();

    ipcMain = new FakeIpcMain();
    window = new ConnectedWebContents();
    renderer = new FakeIpcRenderer(ipcMain, window);
    window.renderer = renderer;
    dispose = registerLocalApiIpc(ipcMain, createLocalApiHandlers(host, log), () => window);

    bridge = new FakeContextBridge();
    loadPreload({ contextBridge: bridge, ipcRenderer: renderer });
    api = bridge.exposed.get('localApi') as LocalApi;
  });

  afterEach(async () => {
    dispose();
    await host.stop();
  });

  it('exposes only localApi', () => {
    expect([...bridge.exposed.keys()]).to.deep.equal(['localApi']);
  });

  it('exposes one function per handler', () => {
    const entries = Object.entries(api);

    expect(entries.map(([key]) => key).sort()).to.deep.equal(
      ['getSettings', 'getStatus', 'listTokens', 'onStatus', 'onTokensChanged', 'revokeAllTokens', 'revokeToken', 'updateSettings'],
    );
    for (const [key, value] of entries) expect(typeof value, key).to.equal('function');
  });

  it('sends each call on its channel', async () => {
    await api.getSettings();
    await api.updateSettings({ port: 18090 });
    await api.getStatus();
    await api.listTokens();
    await api.revokeToken('tok-1');
    await api.revokeAllTokens();

    expect(renderer.invocations).to.deep.equal([
      { channel: LOCAL_API_CHANNELS.getSettings, args: [] },
      { channel: LOCAL_API_CHANNELS.updateSettings, args: [{ port: 18090 }] },
      { channel: LOCAL_API_CHANNELS.getStatus, args: [] },
      { channel: LOCAL_API_CHANNELS.listTokens, args: [] },
      { channel: LOCAL_API_CHANNELS.revokeToken, args: ['tok-1'] },
      { channel: LOCAL_API_CHANNELS.revokeAllTokens, args: [] },
    ]);
  });

  it('drops extra arguments from the page', async () => {
    const updateSettings = api.updateSettings as (...args: unknown[]) => Promise<unknown>;

    await updateSettings({ port: 18091 }, { enabled: true });

    expect(renderer.invocations.at(-1)?.args).to.deep.equal([{ port: 18091 }]);
    expect(host.getSettings().enabled).to.equal(false);
  });

  it('returns validation errors to the page', async () => {
    const result = await api.updateSettings({ allowedServers: ['ftp://files.example.test'] });

    expect(result.ok).to.equal(false);
    expect(result.ok ? undefined : result.error.fieldErrors?.allowedServers).to.deep.equal([
      '"ftp://files.example.test" must use https.',
    ]);
  });

  it('onStatus passes only the status', async () => {
    const calls: unknown[][] = [];
    api.onStatus((...args: unknown[]) => calls.push(args));

    await api.updateSettings({ enabled: true, port: 18092 });
    await waitFor(() => calls.some((args) => (args[0] as SidecarStatus).state === 'listening'), 'a listening status');

    for (const args of calls) expect(args, 'callback arguments').to.have.length(1);
    const listening = calls.map((args) => args[0] as SidecarStatus).find((status) => status.state === 'listening');
    expect(listening?.baseUrl).to.equal('http://127.0.0.1:18092');
  });

  it('onStatus unsubscribe stops callbacks', async () => {
    const states: string[] = [];
    const unsubscribe = api.onStatus((status) => states.push(status.state));

    unsubscribe();
    await api.updateSettings({ enabled: true });
    await waitFor(() => host.getStatus().state === 'listening', 'the listening status');
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(states).to.deep.equal([]);
    expect(renderer.listenerCount(LOCAL_API_CHANNELS.status)).to.equal(0);
  });

  it('onTokensChanged fires after a revoke', async () => {
    let changes = 0;
    const unsubscribe = api.onTokensChanged((...args: unknown[]) => {
      expect(args).to.have.length(0);
      changes += 1;
    });
    await api.updateSettings({ enabled: true });
    await waitFor(() => host.getStatus().state === 'listening', 'the listening status');

    await api.revokeAllTokens();
    await waitFor(() => changes > 0, 'a token change');
    unsubscribe();

    expect(renderer.listenerCount(LOCAL_API_CHANNELS.tokensChanged)).to.equal(0);
  });

  it('subscriptions reject a non-function', () => {
    expect(() => api.onStatus('alert(1)' as unknown as () => void)).to.throw(TypeError, 'onStatus expects a function.');
    expect(() => api.onTokensChanged(null as unknown as () => void)).to.throw(TypeError, 'onTokensChanged expects a function.');
  });
});

// Tests of the Settings page IPC handlers and their registration, over a real LocalApiHost with a fake utility process.

import { expect } from 'chai';

import { LOCAL_API_CHANNELS } from '../../../main/electron/ipc-channels.js';
import { createLocalApiHandlers, MAX_TOKEN_ID_LENGTH, registerLocalApiIpc } from '../../../main/electron/ipc.js';
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

import type { IpcResult, LocalApiError } from '../../../main/electron/ipc-channels.js';
import type { LocalApiHandlers } from '../../../main/electron/ipc.js';
import type { LocalApiController } from '../../../main/host/types.js';
import type { SidecarStatus, TokenInfo } from '../../../shared/protocol.js';

const TOKENS: TokenInfo[] = [
  {
    id: 'tok-1',
    userId: 'user-alice-01',
    username: 'alice',
    serverUrl: 'http://127.0.0.1:9000',
    issuedAt: Date.UTC(2026, 4, 1, 9),
    expiresAt: Date.UTC(2026, 4, 1, 21),
  },
  {
    id: 'tok-2',
    userId: 'user-bob-02',
    username: 'bob',
    serverUrl: 'http://127.0.0.1:9000',
    issuedAt: Date.UTC(2026, 4, 1, 10),
    expiresAt: Date.UTC(2026, 4, 1, 22),
  },
];

interface Setup {
  host: LocalApiHost;
  handlers: LocalApiHandlers;
  utilityProcess: FakeUtilityProcessModule;
  sidecars: FakeSidecar[];
  log: MemoryLog;
}

function setup(): Setup {
  const log = new MemoryLog();
  const utilityProcess = new FakeUtilityProcessModule();
  const sidecars: FakeSidecar[] = [];
  utilityProcess.onFork((child) => sidecars.push(new FakeSidecar(child, TOKENS)));
  const launcher = new UtilityProcessLauncher({
    utilityProcess,
    MessageChannelMain: FakeMessageChannelMain,
    modulePath: '/app/dist/sidecar/main.js',
    log,
  });
  const host = new LocalApiHost({
    launcher,
    databasePath: '/data/metoyou.sqlite',
    settingsStore: new MemorySettingsStore(),
    log,
  });
  return { host, handlers: createLocalApiHandlers(host, log), utilityProcess, sidecars, log };
}

function expectError<T>(result: IpcResult<T>): LocalApiError {
  if (result.ok) throw new Error(`Expected an error result, got ${JSON.stringify(result.value)}.`);
  return result.error;
}

function expectValue<T>(result: IpcResult<T>): T {
  if (!result.ok) throw new Error(`Expected a value, got ${JSON.stringify(result.error)}.`);
  return result.value;
}

async function enableAndWaitForListening(context: Setup): Promise<void> {
  expectValue(await context.handlers.updateSettings({ enabled: true }));
  await waitFor(() => context.host.getStatus().state === 'listening', 'the listening status');
}

describe('Local API IPC handlers', () => {
  let context: Setup;

  beforeEach(async () => {
    context = setup();
    await context.host.start();
  });

  afterEach(async () => {
    await context.host.stop();
  });

  it('getSettings returns the defaults', async () => {
    const settings = expectValue(await context.handlers.getSettings());

    expect(settings.enabled).to.equal(false);
    expect(settings.port).to.equal(17878);
    expect(settings.allowedServers).to.deep.equal([]);
  });

  it('updateSettings saves a valid change', async () => {
    const settings = expectValue(
      await context.handlers.updateSettings({ port: 18080, allowedServers: ['HTTP://LOCALHOST:9000/'] }),
    );

    expect(settings.port).to.equal(18080);
    expect(settings.allowedServers, 'normalized URL').to.deep.equal(['http://localhost:9000']);
    expect(context.host.getSettings().port).to.equal(18080);
  });

  const invalidChanges: { name: string; change: unknown; field: string; message: RegExp }[] = [
    { name: 'port below range', change: { port: 80 }, field: 'port', message: /between 1024 and 65535/ },
    { name: 'port above range', change: { port: 70000 }, field: 'port', message: /between 1024 and 65535/ },
    { name: 'fractional port', change: { port: 18080.5 }, field: 'port', message: /whole number/ },
    { name: 'port as string', change: { port: '18080' }, field: 'port', message: /Port must be a number/ },
    { name: 'port NaN', change: { port: Number.NaN }, field: 'port', message: /Port must be a number/ },
    { name: 'enabled as string', change: { enabled: 'yes' }, field: 'enabled', message: /Enable must be true or false/ },
    { name: 'LAN flag as number', change: { exposeOnLan: 1 }, field: 'exposeOnLan', message: /true or false/ },
    { name: 'docs flag as null', change: { scalarDocs: null }, field: 'scalarDocs', message: /true or false/ },
    { name: 'malformed URL', change: { allowedServers: ['not a url'] }, field: 'allowedServers', message: /not a valid URL/ },
    {
      name: 'plain http to a remote host',
      change: { allowedServers: ['http://signal.example.test'] },
      field: 'allowedServers',
      message: /must use https/,
    },
    {
      name: 'URL with credentials',
      change: { allowedServers: ['https://user:secret@signal.example.test'] },
      field: 'allowedServers',
      message: /user name or password/,
    },
    {
      name: 'server list as string',
      change: { allowedServers: 'https://signal.example.test' },
      field: 'allowedServers',
      message: /list of strings/,
    },
    { name: 'server entry as number', change: { allowedServers: [42] }, field: 'allowedServers', message: /list of strings/ },
    {
      name: 'overlong server entry',
      change: { allowedServers: [`https://signal.example.test/${'a'.repeat(2100)}`] },
      field: 'allowedServers',
      message: /at most 2048 characters/,
    },
    {
      name: 'origin with a path',
      change: { allowedOrigins: ['http://localhost:3000/app'] },
      field: 'allowedOrigins',
      message: /origin only/,
    },
    { name: 'unknown key', change: { adminMode: true }, field: 'adminMode', message: /Unknown setting: adminMode/ },
  ];

  for (const { name, change, field, message } of invalidChanges) {
    it(`updateSettings rejects ${name}`, async () => {
      const before = context.host.getSettings();

      const error = expectError(await context.handlers.updateSettings(change));

      expect(error.code).to.equal('INVALID_INPUT');
      expect(error.fieldErrors, 'field errors').to.have.property(field);
      expect(error.fieldErrors?.[field]?.join(' ')).to.match(message);
      expect(error.message).to.match(message);
      expect(context.host.getSettings(), 'settings unchanged').to.deep.equal(before);
    });
  }

  it('updateSettings reports every bad field', async () => {
    const error = expectError(await context.handlers.updateSettings({ port: 5, enabled: 'on', allowedServers: ['x'] }));

    expect(Object.keys(error.fieldErrors ?? {}).sort()).to.deep.equal(['allowedServers', 'enabled', 'port']);
  });

  for (const change of [null, [], 'port=18080', 18080, new Map([['port', 18080]])]) {
    it(`updateSettings rejects non-object ${Object.prototype.toString.call(change)}`, async () => {
      const error = expectError(await context.handlers.updateSettings(change));

      expect(error.code).to.equal('INVALID_INPUT');
      expect(error.message).to.equal('The settings change must be an object.');
    });
  }

  it('getStatus returns the host status', async () => {
    const status = expectValue(await context.handlers.getStatus());

    expect(status.state).to.equal('stopped');
    expect(status.baseUrl).to.equal(null);
  });

  for (const method of ['getSettings', 'getStatus', 'listTokens', 'revokeAllTokens'] as const) {
    it(`${method} rejects an argument`, async () => {
      const result: IpcResult<unknown> = await context.handlers[method]({ port: 1 });
      const error = expectError(result);

      expect(error.code).to.equal('INVALID_INPUT');
      expect(error.message).to.equal(`${method} takes no argument.`);
    });
  }

  it('listTokens returns the sidecar tokens', async () => {
    await enableAndWaitForListening(context);

    const tokens = expectValue(await context.handlers.listTokens());

    expect(tokens).to.deep.equal(TOKENS);
  });

  it('revokeToken forwards a valid id', async () => {
    await enableAndWaitForListening(context);
    const sidecar = context.sidecars[0] as FakeSidecar;

    expect(expectValue(await context.handlers.revokeToken('tok-1'))).to.equal(null);
    await waitFor(() => sidecar.received.some((message) => message.type === 'revokeToken'), 'the revoke message');

    expect(sidecar.received.filter((message) => message.type === 'revokeToken')).to.deep.equal([
      { type: 'revokeToken', tokenId: 'tok-1' },
    ]);
    expect(expectValue(await context.handlers.listTokens()).map((token) => token.id)).to.deep.equal(['tok-2']);
  });

  const invalidTokenIds: { name: string; tokenId: unknown; message: RegExp }[] = [
    { name: 'a number', tokenId: 42, message: /must be a string/ },
    { name: 'an object', tokenId: { id: 'tok-1' }, message: /must be a string/ },
    { name: 'missing', tokenId: undefined, message: /must not be empty/ },
    { name: 'empty', tokenId: '', message: /must not be empty/ },
    { name: 'too long', tokenId: 'a'.repeat(MAX_TOKEN_ID_LENGTH + 1), message: /at most 128 characters/ },
    { name: 'with a space', tokenId: 'tok 1', message: /printable ASCII/ },
    { name: 'with a newline', tokenId: 'tok-1\n', message: /printable ASCII/ },
  ];

  for (const { name, tokenId, message } of invalidTokenIds) {
    it(`revokeToken rejects ${name} id`, async () => {
      const error = expectError(await context.handlers.revokeToken(tokenId));

      expect(error.code).to.equal('INVALID_INPUT');
      expect(error.fieldErrors?.tokenId?.join(' ')).to.match(message);
    });
  }

  it('revokeAllTokens empties the token list', async () => {
    await enableAndWaitForListening(context);

    expect(expectValue(await context.handlers.revokeAllTokens())).to.equal(null);

    await waitFor(() => (context.sidecars[0]?.tokens.length ?? -1) === 0, 'an empty token list');
    expect(expectValue(await context.handlers.listTokens())).to.deep.equal([]);
  });

  it('reports controller failures without a stack', async () => {
    const failing: LocalApiController = {
      getSettings: () => context.host.getSettings(),
      updateSettings: async () => {
        throw new Error('EACCES: permission denied, open settings.json');
      },
      getStatus: () => context.host.getStatus(),
      onStatus: () => () => undefined,
      listTokens: async () => [],
      revokeToken: async () => undefined,
      revokeAllTokens: async () => undefined,
    };
    const handlers = createLocalApiHandlers(failing, context.log);

    const error = expectError(await handlers.updateSettings({ port: 18081 }));

    expect(error.code).to.equal('OPERATION_FAILED');
    expect(error.message).to.equal('updateSettings failed: EACCES: permission denied, open settings.json');
    expect(JSON.stringify(error)).not.to.include(' at ');
    expect(context.log.entries.some((entry) => entry.level === 'error' && entry.fields.method === 'updateSettings')).to.equal(
      true,
    );
  });
});

describe('registerLocalApiIpc', () => {
  let context: Setup;
  let ipcMain: FakeIpcMain;
  let window: FakeWebContents;
  let dispose: () => void;

  beforeEach(async () => {
    context = setup();
    ipcMain = new FakeIpcMain();
    window = new FakeWebContents();
    dispose = registerLocalApiIpc(ipcMain, context.handlers, () => window);
    await context.host.start();
  });

  afterEach(async () => {
    dispose();
    await context.host.stop();
  });

  it('registers one handler per method', () => {
    expect([...ipcMain.handlers.keys()].sort()).to.deep.equal(
      [
        LOCAL_API_CHANNELS.getSettings,
        LOCAL_API_CHANNELS.updateSettings,
        LOCAL_API_CHANNELS.getStatus,
        LOCAL_API_CHANNELS.listTokens,
        LOCAL_API_CHANNELS.revokeToken,
        LOCAL_API_CHANNELS.revokeAllTokens,
      ].sort(),
    );
  });

  it('invokes handlers for the Settings window', async () => {
    const result = (await ipcMain.invoke(LOCAL_API_CHANNELS.updateSettings, window, { port: 18082 })) as IpcResult<{
      port: number;
    }>;

    expect(expectValue(result).port).to.equal(18082);
  });

  it('returns field errors through IPC', async () => {
    const result = (await ipcMain.invoke(LOCAL_API_CHANNELS.updateSettings, window, { port: 1 })) as IpcResult<unknown>;
    const error = expectError(result);

    expect(error.code).to.equal('INVALID_INPUT');
    expect(error.fieldErrors?.port).to.deep.equal(['Port must be between 1024 and 65535.']);
  });

  it('rejects calls from other web contents', async () => {
    const other = new FakeWebContents();

    const result = (await ipcMain.invoke(LOCAL_API_CHANNELS.updateSettings, other, { enabled: true })) as IpcResult<unknown>;

    expect(expectError(result).code).to.equal('FORBIDDEN_SENDER');
    expect(context.host.getSettings().enabled).to.equal(false);
  });

  it('rejects calls after the window closed', async () => {
    const closed = window;
    window = null as unknown as FakeWebContents;

    const result = (await ipcMain.invoke(LOCAL_API_CHANNELS.getSettings, closed)) as IpcResult<unknown>;

    expect(expectError(result).code).to.equal('FORBIDDEN_SENDER');
  });

  it('rejects extra arguments', async () => {
    const result = (await ipcMain.invoke(LOCAL_API_CHANNELS.revokeToken, window, 'tok-1', 'tok-2')) as IpcResult<unknown>;
    const error = expectError(result);

    expect(error.code).to.equal('INVALID_INPUT');
    expect(error.message).to.equal('revokeToken takes at most one argument.');
  });

  it('pushes status changes to the window', async () => {
    await ipcMain.invoke(LOCAL_API_CHANNELS.updateSettings, window, { enabled: true, port: 18083 });
    const statuses = () =>
      window.sent.filter((entry) => entry.channel === LOCAL_API_CHANNELS.status).map((entry) => entry.args[0] as SidecarStatus);
    await waitFor(() => statuses().some((status) => status.state === 'listening'), 'a pushed listening status');

    const states = statuses().map((status) => status.state);
    expect(states[0]).to.equal('starting');
    const listening = statuses().find((status) => status.state === 'listening');
    expect(listening?.baseUrl).to.equal('http://127.0.0.1:18083');
    expect(listening?.port).to.equal(18083);
  });

  it('pushes token changes to the window', async () => {
    await ipcMain.invoke(LOCAL_API_CHANNELS.updateSettings, window, { enabled: true });
    await waitFor(() => context.host.getStatus().state === 'listening', 'the listening status');

    await ipcMain.invoke(LOCAL_API_CHANNELS.revokeAllTokens, window);
    await waitFor(
      () => window.sent.some((entry) => entry.channel === LOCAL_API_CHANNELS.tokensChanged),
      'a pushed token change',
    );
  });

  it('skips pushes to a destroyed window', async () => {
    window.destroyed = true;

    expectValue(await context.handlers.updateSettings({ enabled: true }));
    await waitFor(() => context.host.getStatus().state === 'listening', 'the listening status');

    expect(window.sent).to.deep.equal([]);
  });

  it('dispose removes handlers and pushes', async () => {
    dispose();
    dispose = () => undefined;

    expect(ipcMain.handlers.size).to.equal(0);
    expectValue(await context.handlers.updateSettings({ enabled: true }));
    await waitFor(() => context.host.getStatus().state === 'listening', 'the listening status');
    expect(window.sent).to.deep.equal([]);
  });
});

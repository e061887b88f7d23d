// In-memory fakes of the Electron main-process objects the desktop host uses, typed against electron.d.ts.

import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';

import type {
  App,
  BrowserWindowConstructorOptions,
  ForkOptions,
  HandlerDetails,
  IpcMain,
  IpcMainInvokeEvent,
  MessageChannelMain,
  MessageEvent,
  MessagePortMain,
  Shell,
  UtilityProcess,
  WebContents,
  WindowOpenHandlerResponse,
} from 'electron';
import type { DesktopAppModule, DesktopWebContents, DesktopWindow } from '../../main/electron/desktop.js';
import type { HostLog } from '../../main/host/host-log.js';
import type { HostToSidecarMessage, SidecarToHostMessage, TokenInfo } from '../../shared/protocol.js';

/**
 * One end of an in-memory message channel. Like Electron's port it clones
 * every message, queues incoming messages until `start()`, delivers them
 * asynchronously and drops messages posted after either end closed.
 */
export class FakeMessagePort extends EventEmitter implements MessagePortMain {
  peer: FakeMessagePort | null = null;
  started = false;
  closed = false;
  readonly #queue: MessageEvent[] = [];

  postMessage(message: unknown, transfer: MessagePortMain[] = []): void {
    const peer = this.peer;
    if (this.closed || peer === null || peer.closed) return;
    for (const port of transfer) {
      if (!(port instanceof FakeMessagePort)) throw new TypeError('Only FakeMessagePort objects can be transferred.');
    }
    // Electron serializes port messages with the structured clone algorithm, so functions fail here as they would there.
    const event: MessageEvent = { data: structuredClone(message), ports: [...transfer] };
    setImmediate(() => peer.#deliver(event));
  }

  start(): void {
    this.started = true;
    for (const event of this.#queue.splice(0)) this.emit('message', event);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const peer = this.peer;
    if (peer !== null && !peer.closed) {
      peer.closed = true;
      setImmediate(() => peer.emit('close'));
    }
  }

  #deliver(event: MessageEvent): void {
    if (this.closed) return;
    if (this.started) this.emit('message', event);
    else this.#queue.push(event);
  }
}

export class FakeMessageChannelMain implements MessageChannelMain {
  /** Every channel created, so a test can reach the host's end of each. */
  static readonly created: FakeMessageChannelMain[] = [];

  readonly port1 = new FakeMessagePort();
  readonly port2 = new FakeMessagePort();

  constructor() {
    this.port1.peer = this.port2;
    this.port2.peer = this.port1;
    FakeMessageChannelMain.created.push(this);
  }
}

export interface PostedMessage {
  message: unknown;
  transfer: MessagePortMain[];
}

let nextPid = 41_000;

/**
 * A forked utility process that never runs code. It emits 'spawn' on the next
 * tick, exposes piped stdout and stderr, and throws when a message is posted
 * after exit, so that a test fails on such a post.
 */
export class FakeUtilityProcess extends EventEmitter implements UtilityProcess {
  pid: number | undefined = undefined;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly posted: PostedMessage[] = [];
  killCalls = 0;
  exited = false;

  constructor(
    readonly modulePath: string,
    readonly args: string[] | undefined,
    readonly options: ForkOptions | undefined,
  ) {
    super();
    setImmediate(() => {
      if (this.exited) return;
      this.pid = nextPid++;
      this.emit('spawn');
    });
  }

  postMessage(message: unknown, transfer: MessagePortMain[] = []): void {
    if (this.exited) throw new Error('postMessage was called on a utility process that has exited.');
    this.posted.push({ message: structuredClone(message), transfer: [...transfer] });
    this.emit('child-received', this.posted.at(-1));
  }

  kill(): boolean {
    this.killCalls += 1;
    if (this.exited) return false;
    setImmediate(() => this.exit(0));
    return true;
  }

  /** Ends the process as a crash or a normal exit would, closing its output streams first. */
  exit(code: number): void {
    if (this.exited) return;
    this.exited = true;
    this.stdout.end();
    this.stderr.end();
    this.emit('exit', code);
    this.pid = undefined;
  }

  /** Returns the port the parent transferred in its first message, as `process.parentPort` would deliver it. */
  transferredPort(): FakeMessagePort {
    const first = this.posted[0];
    const port = first?.transfer[0];
    if (!(port instanceof FakeMessagePort)) throw new Error('The first message did not transfer a port.');
    return port;
  }
}

/** Fake of Electron's `utilityProcess` module that records every fork. */
export class FakeUtilityProcessModule {
  readonly forks: FakeUtilityProcess[] = [];
  readonly #forkListeners: ((child: FakeUtilityProcess) => void)[] = [];

  fork(modulePath: string, args?: string[], options?: ForkOptions): FakeUtilityProcess {
    const child = new FakeUtilityProcess(modulePath, args, options);
    this.forks.push(child);
    for (const listener of this.#forkListeners) listener(child);
    return child;
  }

  onFork(listener: (child: FakeUtilityProcess) => void): void {
    this.#forkListeners.push(listener);
  }
}

/** Web contents of a window: records every `send` after cloning it, and keeps the window-open handler. */
export class FakeWebContents
  extends EventEmitter
  implements DesktopWebContents, Pick<WebContents, 'send' | 'isDestroyed' | 'setWindowOpenHandler'>
{
  readonly sent: { channel: string; args: unknown[] }[] = [];
  destroyed = false;
  windowOpenHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | null = null;

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, args: structuredClone(args) });
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void {
    this.windowOpenHandler = handler;
  }
}

/** A BrowserWindow that loads nothing; `close()` destroys its web contents and emits 'closed' like Electron. */
export class FakeBrowserWindow extends EventEmitter implements DesktopWindow {
  static readonly created: FakeBrowserWindow[] = [];

  readonly webContents = new FakeWebContents();
  readonly loadedFiles: string[] = [];
  destroyed = false;
  minimized = false;
  focusCalls = 0;

  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
    FakeBrowserWindow.created.push(this);
  }

  async loadFile(filePath: string): Promise<void> {
    this.loadedFiles.push(filePath);
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  isMinimized(): boolean {
    return this.minimized;
  }

  restore(): void {
    this.minimized = false;
  }

  focus(): void {
    this.focusCalls += 1;
  }

  close(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
  }
}

/**
 * The `app` module: `whenReady()` resolves when the test calls `ready()`, and
 * `quit()` emits 'before-quit' and then, unless a listener prevented it, 'quit'.
 */
export class FakeApp
  extends EventEmitter
  implements DesktopAppModule, Pick<App, 'whenReady' | 'getPath' | 'quit' | 'requestSingleInstanceLock' | 'isPackaged'>
{
  isPackaged = false;
  hasSingleInstanceLock = true;
  quitCalls = 0;
  quitted = false;
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;

  constructor(readonly userDataPath: string) {
    super();
    this.#ready = new Promise((resolve) => (this.#resolveReady = resolve));
  }

  ready(): void {
    this.#resolveReady();
  }

  whenReady(): Promise<void> {
    return this.#ready;
  }

  getPath(name: Parameters<App['getPath']>[0]): string {
    if (name !== 'userData') throw new Error(`The fake app has no path for '${name}'.`);
    return this.userDataPath;
  }

  requestSingleInstanceLock(): boolean {
    return this.hasSingleInstanceLock;
  }

  quit(): void {
    this.quitCalls += 1;
    let prevented = false;
    const event = {
      preventDefault: () => {
        prevented = true;
      },
      get defaultPrevented() {
        return prevented;
      },
    };
    this.emit('before-quit', event);
    if (prevented) return;
    this.quitted = true;
    this.emit('quit');
  }
}

export class FakeShell implements Pick<Shell, 'openExternal'> {
  readonly opened: string[] = [];

  async openExternal(url: string): Promise<void> {
    this.opened.push(url);
  }
}

type InvokeListener = Parameters<IpcMain['handle']>[1];

/** Fake of `ipcMain` with `handle` and `removeHandler`, plus `invoke` that plays the renderer's `ipcRenderer.invoke`. */
export class FakeIpcMain implements Pick<IpcMain, 'handle' | 'removeHandler'> {
  readonly handlers = new Map<string, InvokeListener>();

  handle(channel: string, listener: InvokeListener): void {
    // Electron throws on a second handler for one channel, so registering twice is a bug worth failing on.
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /** Calls the handler as Electron does: arguments and result are structured clones. */
  async invoke(channel: string, sender: FakeWebContents, ...args: unknown[]): Promise<unknown> {
    const listener = this.handlers.get(channel);
    if (listener === undefined) throw new Error(`No handler registered for '${channel}'`);
    // Handlers read only `sender`; the rest of the event has no meaning without a real frame.
    const event = { sender, frameId: 1, processId: 1 } as unknown as IpcMainInvokeEvent;
    const result: unknown = await listener(event, ...structuredClone(args));
    return structuredClone(result);
  }
}

/** A HostLog that keeps every entry, so tests can assert what reached the app log. */
export class MemoryLog implements HostLog {
  readonly entries: { level: 'info' | 'warn' | 'error'; fields: Record<string, unknown>; message: string }[] = [];

  info(fields: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'info', fields, message });
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'warn', fields, message });
  }

  error(fields: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'error', fields, message });
  }
}

/**
 * The sidecar's side of the protocol inside a FakeUtilityProcess: it takes the
 * port from the first message, as sidecar/main.ts does under Electron, reports
 * `listening` on every `configure`, serves the token list and exits on `shutdown`.
 */
export class FakeSidecar {
  readonly received: HostToSidecarMessage[] = [];
  tokens: TokenInfo[];
  port: FakeMessagePort | null = null;

  constructor(
    readonly child: FakeUtilityProcess,
    tokens: TokenInfo[] = [],
  ) {
    this.tokens = structuredClone(tokens);
    child.once('child-received', () => {
      const port = child.transferredPort();
      this.port = port;
      port.on('message', (event) => this.#handle(event.data as HostToSidecarMessage));
      port.start();
    });
  }

  send(message: SidecarToHostMessage): void {
    this.port?.postMessage(message);
  }

  #handle(message: HostToSidecarMessage): void {
    this.received.push(message);
    const pid = this.child.pid ?? 0;
    switch (message.type) {
      case 'configure': {
        const port = message.settings.port;
        this.send({ type: 'ready', pid });
        this.send({
          type: 'status',
          status: {
            state: 'listening',
            addresses: ['127.0.0.1', '::1'],
            port,
            baseUrl: `http://127.0.0.1:${port}`,
            pid,
            message: `Listening on http://127.0.0.1:${port}.`,
          },
        });
        break;
      }
      case 'listTokens':
        this.send({ type: 'tokens', requestId: message.requestId, tokens: this.tokens });
        break;
      case 'revokeToken':
        this.tokens = this.tokens.filter((token) => token.id !== message.tokenId);
        this.send({ type: 'tokensChanged' });
        break;
      case 'revokeAllTokens':
        this.tokens = [];
        this.send({ type: 'tokensChanged' });
        break;
      case 'shutdown':
        this.send({ type: 'stopped' });
        setImmediate(() => this.child.exit(0));
        break;
    }
  }
}

/** Resolves once `condition` holds, polling every 5 ms. Rejects after `timeoutMs` with `description` in the message. */
export async function waitFor(condition: () => boolean, description: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}.`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

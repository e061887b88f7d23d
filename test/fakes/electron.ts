// In-memory fakes of the Electron main-process objects the desktop host uses, typed against electron.d.ts.

import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';

import type {
  ForkOptions,
  IpcMain,
  IpcMainInvokeEvent,
  MessageChannelMain,
  MessageEvent,
  MessagePortMain,
  UtilityProcess,
  WebContents,
} from 'electron';

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
    // structuredClone throws on functions and class instances, as Electron's serializer does.
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
 * after exit, which Electron's wrapper does not report.
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

/** Sender of invoke events and receiver of pushed messages; records every `send` after cloning it. */
export class FakeWebContents implements Pick<WebContents, 'send' | 'isDestroyed' | 'id'> {
  readonly id = 1;
  readonly sent: { channel: string; args: unknown[] }[] = [];
  destroyed = false;

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, args: structuredClone(args) });
  }

  isDestroyed(): boolean {
    return this.destroyed;
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

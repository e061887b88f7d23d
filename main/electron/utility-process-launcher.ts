// Starts the sidecar as an Electron utility process and carries the host protocol over a MessageChannelMain port.

import { createInterface } from 'node:readline';

import { isSidecarToHostMessage } from '../../shared/protocol.js';

import type { ForkOptions, MessageChannelMain, MessagePortMain, UtilityProcess } from 'electron';
import type { HostToSidecarMessage, SidecarToHostMessage } from '../../shared/protocol.js';
import type { HostLog } from '../host/host-log.js';
import type { SidecarHandle, SidecarLauncher } from '../host/types.js';

/** Name of the process in Electron's process metrics and crash reports. */
export const SIDECAR_SERVICE_NAME = 'MetoYou Local API';

export interface UtilityProcessLauncherOptions {
  /** Electron's `utilityProcess` module, or a fake in tests. */
  utilityProcess: { fork(modulePath: string, args?: string[], options?: ForkOptions): UtilityProcess };
  /** Electron's `MessageChannelMain` class, or a fake in tests. */
  MessageChannelMain: new () => MessageChannelMain;
  /** Absolute path of the compiled sidecar entry, `dist/sidecar/main.js`. */
  modulePath: string;
  log: HostLog;
}

type ExitListener = (code: number | null, signal: string | null) => void;

/** One forked sidecar: protocol messages go over `port`, never over the process's own message channel. */
class UtilityProcessHandle implements SidecarHandle {
  readonly #child: UtilityProcess;
  readonly #port: MessagePortMain;
  readonly #log: HostLog;
  readonly #messageListeners: ((message: SidecarToHostMessage) => void)[] = [];
  readonly #exitListeners: ExitListener[] = [];
  #exitCode: number | null | undefined;

  constructor(child: UtilityProcess, port: MessagePortMain, log: HostLog) {
    this.#child = child;
    this.#port = port;
    this.#log = log;

    port.on('message', (event) => this.#receive(event.data));
    port.start();

    // Without an 'error' listener, Node's EventEmitter would throw the fatal-error
    // event into the main process and take the window down with the sidecar.
    child.on('error', (type, location) => {
      this.#log.error({ pid: child.pid, type, location }, 'sidecar process failed');
    });
    child.on('exit', (code) => this.#handleExit(code));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  postMessage(message: HostToSidecarMessage): void {
    if (this.#exitCode !== undefined) return;
    this.#port.postMessage(message);
  }

  onMessage(listener: (message: SidecarToHostMessage) => void): void {
    this.#messageListeners.push(listener);
  }

  onExit(listener: ExitListener): void {
    const exitCode = this.#exitCode;
    if (exitCode !== undefined) {
      // The process has already exited, so the listener runs on the next tick. Otherwise a late registration would never fire.
      setImmediate(() => this.#callListener(() => listener(exitCode, null)));
      return;
    }
    this.#exitListeners.push(listener);
  }

  kill(): void {
    if (this.#exitCode !== undefined) return;
    this.#child.kill();
  }

  #receive(data: unknown): void {
    if (this.#exitCode !== undefined) return;
    if (!isSidecarToHostMessage(data)) {
      this.#log.warn({ pid: this.#child.pid }, 'dropped a malformed message from the sidecar');
      return;
    }
    for (const listener of this.#messageListeners) this.#callListener(() => listener(data));
  }

  #handleExit(code: number): void {
    if (this.#exitCode !== undefined) return;
    this.#exitCode = code;
    this.#log.info({ pid: this.#child.pid, code }, 'sidecar process exited');
    this.#port.close();
    // Electron reports only an exit code, so the signal is always unknown here.
    for (const listener of this.#exitListeners.splice(0)) this.#callListener(() => listener(code, null));
  }

  /** Runs a host listener so that its exception is logged instead of reaching Electron's event loop. */
  #callListener(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#log.error({ pid: this.#child.pid, err: error }, 'sidecar event listener threw');
    }
  }
}

/** Forks the sidecar with Electron's `utilityProcess`. Electron allows `utilityProcess.fork` only after `app.whenReady()`. */
export class UtilityProcessLauncher implements SidecarLauncher {
  readonly #options: UtilityProcessLauncherOptions;

  constructor(options: UtilityProcessLauncherOptions) {
    this.#options = options;
  }

  launch(): SidecarHandle {
    const { utilityProcess, MessageChannelMain: Channel, modulePath, log } = this.#options;
    const child = utilityProcess.fork(modulePath, [], { serviceName: SIDECAR_SERVICE_NAME, stdio: 'pipe' });
    const channel = new Channel();

    // The sidecar takes port2 from this first message and uses it for every later message in both directions.
    child.postMessage({ type: 'port' }, [channel.port2]);

    pipeLines(child.stdout, (line) => log.info({ pid: child.pid, stream: 'stdout', line }, 'sidecar output'));
    pipeLines(child.stderr, (line) => log.warn({ pid: child.pid, stream: 'stderr', line }, 'sidecar output'));
    child.once('spawn', () => log.info({ pid: child.pid, modulePath }, 'sidecar process started'));

    return new UtilityProcessHandle(child, channel.port1, log);
  }
}

function pipeLines(stream: NodeJS.ReadableStream | null, write: (line: string) => void): void {
  if (stream === null) return;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() !== '') write(line);
  });
}

// Sidecar launcher for the plain-Node host: forks dist/sidecar/main.js with an IPC channel.

import { fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { isSidecarToHostMessage } from '../../shared/protocol.js';

import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { HostToSidecarMessage, SidecarToHostMessage } from '../../shared/protocol.js';
import type { SidecarHandle, SidecarLauncher } from '../host/types.js';

/** Compiled sidecar entry, found relative to this module so it works from any working directory. */
export const DEFAULT_SIDECAR_PATH = fileURLToPath(new URL('../../sidecar/main.js', import.meta.url));

export interface SidecarLogLine {
  line: string;
  stream: 'stdout' | 'stderr';
  pid: number | undefined;
}

export interface ChildProcessLauncherOptions {
  sidecarPath?: string;
  /** Receives each line the sidecar prints; the default copies it to this process's stdout or stderr. */
  onLogLine?: (entry: SidecarLogLine) => void;
  /** Called with messages that fail the protocol check and are dropped. */
  onInvalidMessage?: (message: unknown, pid: number | undefined) => void;
  env?: NodeJS.ProcessEnv;
  /**
   * Starts the sidecar in its own process group, so a Ctrl-C in the terminal
   * reaches only the host, which then stops the sidecar in order. The sidecar
   * must then exit by itself when the IPC channel closes, or it outlives a
   * host that dies without stopping it.
   */
  detached?: boolean;
}

function copyToOwnOutput(entry: SidecarLogLine): void {
  const output = entry.stream === 'stdout' ? process.stdout : process.stderr;
  output.write(`${entry.line}\n`);
}

class ChildProcessSidecarHandle implements SidecarHandle {
  private exitInfo: { code: number | null; signal: string | null } | null = null;
  private readonly exitListeners: ((code: number | null, signal: string | null) => void)[] = [];

  constructor(
    private readonly child: ChildProcess,
    private readonly onInvalidMessage: (message: unknown) => void,
    onSpawnError: (error: Error) => void,
  ) {
    child.once('exit', (code, signal) => this.markExited(code, signal));
    child.on('error', (error) => {
      // A failed spawn emits 'error' and no 'exit'. Errors of a running child
      // (such as a send on a closed channel) are handled by postMessage.
      if (child.pid !== undefined) return;
      onSpawnError(error);
      this.markExited(null, null);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  postMessage(message: HostToSidecarMessage): void {
    if (this.exitInfo !== null || !this.child.connected) return;
    // The callback takes the error of a channel that closed after the check
    // above, which would otherwise be emitted as an 'error' event.
    this.child.send(message, () => undefined);
  }

  onMessage(listener: (message: SidecarToHostMessage) => void): void {
    this.child.on('message', (message: unknown) => {
      if (isSidecarToHostMessage(message)) listener(message);
      else this.onInvalidMessage(message);
    });
  }

  onExit(listener: (code: number | null, signal: string | null) => void): void {
    const exitInfo = this.exitInfo;
    if (exitInfo !== null) {
      queueMicrotask(() => listener(exitInfo.code, exitInfo.signal));
      return;
    }
    this.exitListeners.push(listener);
  }

  kill(): void {
    if (this.exitInfo === null) this.child.kill('SIGKILL');
  }

  private markExited(code: number | null, signal: string | null): void {
    if (this.exitInfo !== null) return;
    this.exitInfo = { code, signal };
    for (const listener of this.exitListeners.splice(0)) listener(code, signal);
  }
}

/** Forks the sidecar under plain Node, with 'advanced' serialization on the IPC channel. */
export class ChildProcessLauncher implements SidecarLauncher {
  readonly sidecarPath: string;
  private readonly onLogLine: (entry: SidecarLogLine) => void;
  private readonly onInvalidMessage: ((message: unknown, pid: number | undefined) => void) | undefined;
  private readonly env: NodeJS.ProcessEnv | undefined;
  private readonly detached: boolean;

  constructor(options: ChildProcessLauncherOptions = {}) {
    this.sidecarPath = options.sidecarPath ?? DEFAULT_SIDECAR_PATH;
    this.onLogLine = options.onLogLine ?? copyToOwnOutput;
    this.onInvalidMessage = options.onInvalidMessage;
    this.env = options.env;
    this.detached = options.detached ?? false;
  }

  launch(): SidecarHandle {
    const child = fork(this.sidecarPath, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      env: this.env ?? process.env,
      detached: this.detached,
    });
    this.forwardLines(child, child.stdout, 'stdout');
    this.forwardLines(child, child.stderr, 'stderr');
    return new ChildProcessSidecarHandle(
      child,
      (message) => this.onInvalidMessage?.(message, child.pid),
      (error) => this.onLogLine({ line: `The sidecar could not be started: ${error.message}`, stream: 'stderr', pid: undefined }),
    );
  }

  private forwardLines(child: ChildProcess, stream: Readable | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => this.onLogLine({ line, stream: name, pid: child.pid }));
  }
}

// In-memory sidecar launcher and handle for host tests: records what the host sends and lets a test play the sidecar.

import type { HostToSidecarMessage, SidecarStatus, SidecarToHostMessage } from '../../../shared/protocol.js';
import type { HostLog } from '../../../main/host/host-log.js';
import type { SidecarHandle, SidecarLauncher } from '../../../main/host/types.js';

export class FakeSidecarHandle implements SidecarHandle {
  readonly posted: HostToSidecarMessage[] = [];
  /** Messages the host tried to send after the exit; the host must never do that. */
  readonly postedAfterExit: HostToSidecarMessage[] = [];
  killed = false;
  exited = false;
  /** When true, a `shutdown` message makes the fake exit with code 0, as the real sidecar does. */
  exitOnShutdown = false;
  private readonly messageListeners: ((message: SidecarToHostMessage) => void)[] = [];
  private readonly exitListeners: ((code: number | null, signal: string | null) => void)[] = [];

  constructor(readonly pid: number) {}

  postMessage(message: HostToSidecarMessage): void {
    if (this.exited) {
      this.postedAfterExit.push(structuredClone(message));
      return;
    }
    this.posted.push(structuredClone(message));
    if (message.type === 'shutdown' && this.exitOnShutdown) {
      queueMicrotask(() => {
        this.emit({ type: 'stopped' });
        this.exit(0, null);
      });
    }
  }

  onMessage(listener: (message: SidecarToHostMessage) => void): void {
    this.messageListeners.push(listener);
  }

  onExit(listener: (code: number | null, signal: string | null) => void): void {
    this.exitListeners.push(listener);
  }

  kill(): void {
    if (this.exited) return;
    this.killed = true;
    queueMicrotask(() => this.exit(null, 'SIGKILL'));
  }

  /** Sends a message to the host as the sidecar would. */
  emit(message: SidecarToHostMessage): void {
    if (this.exited) throw new Error('an exited sidecar cannot send messages');
    for (const listener of this.messageListeners) listener(message);
  }

  emitListening(port: number): void {
    this.emit({ type: 'status', status: listeningStatus(port, this.pid) });
  }

  exit(code: number | null, signal: string | null): void {
    if (this.exited) return;
    this.exited = true;
    for (const listener of this.exitListeners) listener(code, signal);
  }

  messagesOfType<T extends HostToSidecarMessage['type']>(type: T): Extract<HostToSidecarMessage, { type: T }>[] {
    return this.posted.filter((message) => message.type === type) as Extract<HostToSidecarMessage, { type: T }>[];
  }
}

export class FakeLauncher implements SidecarLauncher {
  readonly handles: FakeSidecarHandle[] = [];
  /** When set, the next launch throws this error instead of starting a process. */
  failNextLaunch: Error | null = null;
  exitOnShutdown = true;
  private nextPid = 4100;

  launch(): SidecarHandle {
    if (this.failNextLaunch) {
      const error = this.failNextLaunch;
      this.failNextLaunch = null;
      throw error;
    }
    const handle = new FakeSidecarHandle(this.nextPid++);
    handle.exitOnShutdown = this.exitOnShutdown;
    this.handles.push(handle);
    return handle;
  }

  get last(): FakeSidecarHandle {
    const handle = this.handles.at(-1);
    if (!handle) throw new Error('no sidecar was launched');
    return handle;
  }
}

export function listeningStatus(port: number, pid: number): SidecarStatus {
  return {
    state: 'listening',
    addresses: ['127.0.0.1', '::1'],
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    pid,
    message: `The local API listens on port ${port}.`,
  };
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** HostLog that keeps every entry for assertions. */
export class RecordingLog implements HostLog {
  readonly entries: LogEntry[] = [];

  info(fields: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'info', fields, message });
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'warn', fields, message });
  }

  error(fields: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'error', fields, message });
  }

  find(message: string | RegExp): LogEntry | undefined {
    return this.entries.find((entry) =>
      typeof message === 'string' ? entry.message === message : message.test(entry.message),
    );
  }
}

// Logging and timer seams of the host, so that tests can capture log lines and drive time with fake timers.

import { pino } from 'pino';

/** Structured log of host lifecycle events; a pino logger satisfies it. */
export interface HostLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Creates the default host log: pino JSON lines on stdout. */
export function createDefaultHostLog(): HostLog {
  return pino({ name: 'metoyou-local-api-host', level: process.env.LOCAL_API_LOG_LEVEL ?? 'info' });
}

/** Timer functions the host uses for restart backoff, kill timeouts and the crash window. */
export interface HostTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Milliseconds since the epoch. */
  now(): number;
}

/**
 * Timers that look up the globals on every call, because sinon's
 * useFakeTimers replaces the globals after this module has loaded.
 */
export const systemTimers: HostTimers = {
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, delayMs),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
  now: () => Date.now(),
};

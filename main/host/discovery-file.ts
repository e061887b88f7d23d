// The discovery file: the address of the API for local scripts, present only while the API listens.

import { readFile, rm } from 'node:fs/promises';

import { writeFileAtomic } from './atomic-write.js';

import type { HostLog } from './host-log.js';

/** Content of the discovery file. It carries no token or other secret. */
export interface DiscoveryInfo {
  port: number;
  pid: number | null;
  baseUrl: string;
  addresses: string[];
  /** ISO 8601 time at which the server started listening. */
  startedAt: string;
}

/**
 * Writes and removes the discovery file. Operations run one after another in
 * call order, so a quick listening → error → listening sequence cannot leave a
 * stale file behind. Failures are logged, not thrown, because a missing
 * discovery file must not stop the API itself.
 */
export class DiscoveryFile {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly log: HostLog,
  ) {}

  write(info: DiscoveryInfo): Promise<void> {
    return this.enqueue('write', () => writeFileAtomic(this.path, `${JSON.stringify(info, null, 2)}\n`, 0o600));
  }

  remove(): Promise<void> {
    return this.enqueue('remove', () => rm(this.path, { force: true }));
  }

  /** Resolves once every operation requested so far has finished. */
  settled(): Promise<void> {
    return this.queue;
  }

  private enqueue(operation: string, run: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(run).catch((error: unknown) => {
      this.log.error(
        { path: this.path, operation, error: (error as Error).message },
        'discovery file operation failed',
      );
    });
    return this.queue;
  }
}

/** Reads a discovery file; returns null when it does not exist. */
export async function readDiscoveryFile(path: string): Promise<DiscoveryInfo | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as DiscoveryInfo;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

// Read-only access to the desktop database, reopened when the file appears, changes or recovers.

import { stat } from 'node:fs/promises';

import sqlite3 from 'sqlite3';

import { ApiError } from './errors.js';
import { logger } from './log.js';

export interface DatabaseOptions {
  path: string;
  /** How long a query waits for a writer's lock before DATABASE_BUSY, in milliseconds. */
  busyTimeoutMs?: number;
  /** How often the file's identity is checked to notice a replaced file, in milliseconds. */
  identityCheckIntervalMs?: number;
  /** How long a failed open is reported again before the next try, in milliseconds. */
  reopenDelayMs?: number;
}

type SqlParameter = string | number | null;

interface FileIdentity {
  dev: number;
  ino: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 2000;
const DEFAULT_IDENTITY_CHECK_INTERVAL_MS = 1000;
const DEFAULT_REOPEN_DELAY_MS = 200;

/** SQLite result codes that mean the connection itself is unusable, so the next query reopens it. */
const CONNECTION_FAILURES = new Set(['SQLITE_CANTOPEN', 'SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_IOERR']);

/** Maps a SQLite error to the API error in the response. The SQL and the file path stay out of it. */
export function toDatabaseApiError(error: NodeJS.ErrnoException): ApiError {
  switch (error.code) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new ApiError('DATABASE_BUSY', 'The desktop database is locked by another process; retry in a few seconds.');
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return new ApiError('DATABASE_CORRUPT', 'The desktop database file is not a valid SQLite database.');
    case 'SQLITE_CANTOPEN':
      return new ApiError(
        'DATABASE_UNAVAILABLE',
        'The desktop database file is missing, or its folder does not allow the shared-memory (-shm) file that WAL mode needs.',
      );
    // A read on a read-only connection fails this way when WAL mode needs a -shm file that the folder does not let it create.
    case 'SQLITE_READONLY':
      return new ApiError(
        'DATABASE_UNAVAILABLE',
        'The folder of the desktop database is read-only and has no -shm file, which WAL mode needs; make the folder writable or start the desktop app.',
      );
    default:
      return new ApiError('DATABASE_UNAVAILABLE', 'The desktop database could not be read.');
  }
}

function openReadOnly(path: string, busyTimeoutMs: number): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const connection = new sqlite3.Database(path, sqlite3.OPEN_READONLY, (error) => {
      if (error) {
        reject(error);
        return;
      }
      connection.configure('busyTimeout', busyTimeoutMs);
      // query_only makes even a PRAGMA or ATTACH that would write fail, on top of OPEN_READONLY.
      connection.exec('PRAGMA query_only = ON', (pragmaError) => {
        if (pragmaError) {
          connection.close();
          reject(pragmaError);
          return;
        }
        resolve(connection);
      });
    });
  });
}

/**
 * Read-only connection to the desktop database. A missing, locked or broken
 * file reaches callers of all() and get() only as an ApiError with a 503 code,
 * and the next query after a failure tries to open the file again.
 */
export class DesktopDatabase {
  private connection: sqlite3.Database | undefined;
  private opening: Promise<sqlite3.Database> | undefined;
  private identity: FileIdentity | undefined;
  private identityCheckedAt = 0;
  private lastOpenFailure: { at: number; error: ApiError } | undefined;
  private readonly busyTimeoutMs: number;
  private readonly identityCheckIntervalMs: number;
  private readonly reopenDelayMs: number;

  constructor(private readonly options: DatabaseOptions) {
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.identityCheckIntervalMs = options.identityCheckIntervalMs ?? DEFAULT_IDENTITY_CHECK_INTERVAL_MS;
    this.reopenDelayMs = options.reopenDelayMs ?? DEFAULT_REOPEN_DELAY_MS;
  }

  get path(): string {
    return this.options.path;
  }

  async all<Row>(sql: string, parameters: SqlParameter[] = []): Promise<Row[]> {
    const connection = await this.acquire();
    const prepared = cachedStatement(connection, sql);
    let statement: sqlite3.Statement | undefined;
    if (prepared) {
      try {
        statement = await prepared;
      } catch (error) {
        throw this.failed(connection, error as NodeJS.ErrnoException);
      }
    }
    return new Promise((resolve, reject) => {
      const callback = (error: NodeJS.ErrnoException | null, rows: Row[]) => {
        if (error) reject(this.failed(connection, error));
        else resolve(rows);
      };
      if (statement) statement.all(parameters, callback);
      else connection.all(sql, parameters, callback);
    });
  }

  /**
   * Returns the first row. The statement runs to completion, because a cached
   * statement stopped after one row would keep its read transaction, and so an
   * old WAL snapshot, open until its next use. Use it for queries of a few rows.
   */
  async get<Row>(sql: string, parameters: SqlParameter[] = []): Promise<Row | undefined> {
    const rows = await this.all<Row>(sql, parameters);
    return rows[0];
  }

  /** Runs a statement that would write; it exists so tests can prove that writes fail. */
  async run(sql: string, parameters: SqlParameter[] = []): Promise<void> {
    const connection = await this.acquire();
    return new Promise((resolve, reject) => {
      connection.run(sql, parameters, (error: NodeJS.ErrnoException | null) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.identity = undefined;
    if (connection) await closeQuietly(connection);
  }

  private async acquire(): Promise<sqlite3.Database> {
    if (this.connection) {
      await this.reopenIfReplaced();
      if (this.connection) return this.connection;
    }
    const failure = this.lastOpenFailure;
    if (failure && Date.now() - failure.at < this.reopenDelayMs) throw failure.error;
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async open(): Promise<sqlite3.Database> {
    try {
      const identity = await readIdentity(this.options.path);
      const connection = await openReadOnly(this.options.path, this.busyTimeoutMs);
      this.connection = connection;
      this.identity = identity;
      this.identityCheckedAt = Date.now();
      this.lastOpenFailure = undefined;
      logger.info({ event: 'database.open' }, 'opened the desktop database read-only');
      return connection;
    } catch (caught) {
      const error = caught as NodeJS.ErrnoException;
      const apiError = error.code === 'ENOENT' ? toDatabaseApiError({ ...error, code: 'SQLITE_CANTOPEN' }) : toDatabaseApiError(error);
      if (!this.lastOpenFailure || this.lastOpenFailure.error.code !== apiError.code) {
        logger.warn({ event: 'database.open_failed', code: apiError.code, sqliteCode: error.code }, 'cannot open the desktop database');
      }
      this.lastOpenFailure = { at: Date.now(), error: apiError };
      throw apiError;
    }
  }

  /** Closes the connection when the file at the path is no longer the file it opened. */
  private async reopenIfReplaced(): Promise<void> {
    const now = Date.now();
    if (now - this.identityCheckedAt < this.identityCheckIntervalMs) return;
    this.identityCheckedAt = now;

    const current = await readIdentity(this.options.path).catch(() => undefined);
    const opened = this.identity;
    if (current && opened && current.dev === opened.dev && current.ino === opened.ino) return;

    logger.info({ event: 'database.replaced' }, 'the desktop database file was replaced or removed; reopening');
    const connection = this.connection;
    this.connection = undefined;
    this.identity = undefined;
    if (connection) void closeQuietly(connection);
  }

  private failed(connection: sqlite3.Database, error: NodeJS.ErrnoException): ApiError {
    const apiError = toDatabaseApiError(error);
    logger.warn({ event: 'database.query_failed', code: apiError.code, sqliteCode: error.code }, 'database query failed');
    if (error.code && CONNECTION_FAILURES.has(error.code) && this.connection === connection) {
      this.connection = undefined;
      this.identity = undefined;
      void closeQuietly(connection);
    }
    return apiError;
  }
}

async function readIdentity(path: string): Promise<FileIdentity> {
  const stats = await stat(path);
  if (!stats.isFile()) {
    throw Object.assign(new Error('The database path is not a file.'), { code: 'SQLITE_CANTOPEN' });
  }
  return { dev: stats.dev, ino: stats.ino };
}

/** Maximum number of statements cached per connection; the repository runs about twenty distinct ones. */
const MAX_CACHED_STATEMENTS = 64;

/**
 * Prepared statements per connection, keyed by SQL text. A cached statement
 * is compiled once and runs a query in one trip to the thread pool, where
 * Database#all of the sqlite3 package compiles the SQL again, in a trip of its
 * own, on every call.
 */
const statementCaches = new WeakMap<sqlite3.Database, Map<string, Promise<sqlite3.Statement>>>();
/** Connections being closed; they get no new cached statements, so that close finds every statement finalized. */
const closingConnections = new WeakSet<sqlite3.Database>();

/**
 * Returns the cached statement of `sql` on `connection`, preparing it on first
 * use, or undefined when the cache is full or the connection is closing. A
 * failed prepare rejects with SQLite's error and is not cached.
 */
function cachedStatement(connection: sqlite3.Database, sql: string): Promise<sqlite3.Statement> | undefined {
  if (closingConnections.has(connection)) return undefined;
  let cache = statementCaches.get(connection);
  if (!cache) {
    cache = new Map();
    statementCaches.set(connection, cache);
  }
  const cached = cache.get(sql);
  if (cached) return cached;
  if (cache.size >= MAX_CACHED_STATEMENTS) return undefined;

  const prepared = new Promise<sqlite3.Statement>((resolve, reject) => {
    const statement = connection.prepare(sql, (error: Error | null) => {
      if (error) reject(error);
      else resolve(statement);
    });
  });
  const entries = cache;
  entries.set(sql, prepared);
  prepared.catch(() => {
    if (entries.get(sql) === prepared) entries.delete(sql);
  });
  return prepared;
}

/**
 * Finalizes the connection's cached statements, then closes it. The order
 * matters because the sqlite3 package closes with sqlite3_close, which fails
 * with SQLITE_BUSY while any statement is live and leaves the file open.
 */
async function closeQuietly(connection: sqlite3.Database): Promise<void> {
  closingConnections.add(connection);
  const statements = [...(statementCaches.get(connection)?.values() ?? [])];
  statementCaches.delete(connection);
  await Promise.all(
    statements.map((prepared) =>
      prepared.then(
        (statement) => new Promise<void>((resolve) => statement.finalize(() => resolve())),
        () => undefined,
      ),
    ),
  );
  return new Promise((resolve) => {
    connection.close(() => resolve());
  });
}

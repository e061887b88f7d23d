// Bare baseline of the benchmark: node:http and sqlite3 serving the benchmarked routes with the sidecar's SQL and JSON, without Koa, validation or auth.

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import sqlite3 from 'sqlite3';

/** IPC message this process sends to its parent once it listens. */
export interface BaselineListeningMessage {
  type: 'listening';
  port: number;
  pid: number;
}

type Row = Record<string, string | number | null>;
type Json = Record<string, unknown>;

// The SQL below is a copy of sidecar/data/repository.ts, statement for statement, so both servers do the same
// database work. The benchmark compares the two servers' response bodies before it measures.
const MESSAGE_COLUMNS = 'id, room_id, sender_id, content, timestamp, edited_at, reply_to_id, extra';
const ATTACHMENT_COLUMNS = 'id, message_id, room_id, file_name, mime_type, size_bytes, url, created_at, extra';
const ROOM_SELECT = `SELECT r.id, r.name, r.topic, r.is_private, r.owner_id, r.created_at, r.extra,
  (SELECT COUNT(*) FROM room_members m WHERE m.room_id = r.id) AS member_count FROM rooms r`;
const SQL = {
  roomExists: 'SELECT 1 AS found FROM rooms WHERE id = ?',
  messageExists: 'SELECT 1 AS found FROM messages WHERE id = ?',
  listRooms: `${ROOM_SELECT} ORDER BY r.created_at, r.id LIMIT ? OFFSET ?`,
  listMessages: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = ?
       ORDER BY timestamp, id LIMIT ? OFFSET ?`,
  listMessagesAfter: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = ? AND (timestamp, id) > (?, ?)
       ORDER BY timestamp, id LIMIT ? OFFSET ?`,
  listMessagesSince: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = ? AND timestamp > ?
       ORDER BY timestamp, id LIMIT ? OFFSET ?`,
  listMessagesSinceAfter: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = ? AND timestamp > ? AND (timestamp, id) > (?, ?)
       ORDER BY timestamp, id LIMIT ? OFFSET ?`,
  getMessage: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`,
  listReactions: `SELECT message_id, user_id, emoji, created_at FROM reactions WHERE message_id = ?
       ORDER BY created_at, user_id, emoji LIMIT ? OFFSET ?`,
  listAttachments: `SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE 1 = 1
       ORDER BY created_at, id LIMIT ? OFFSET ?`,
  listAttachmentsAfter: `SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE 1 = 1 AND (created_at, id) > (?, ?)
       ORDER BY created_at, id LIMIT ? OFFSET ?`,
};

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;
/** The package version, which the sidecar also reports in its health body; read from dist/bench/../../package.json. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

class NotFound extends Error {}

/**
 * Runs a query on a prepared statement that is kept for the life of the
 * process, the way the sidecar's DesktopDatabase caches its statements, so
 * that the comparison measures the framework and not the SQLite calls.
 */
class Statements {
  private readonly prepared = new Map<string, sqlite3.Statement>();

  constructor(private readonly db: sqlite3.Database) {}

  all(sql: string, parameters: (string | number)[]): Promise<Row[]> {
    let statement = this.prepared.get(sql);
    if (statement === undefined) {
      // A failed prepare fails the query queued behind it, so the request gets a 500. The callback keeps it from crashing the process.
      statement = this.db.prepare(sql, () => undefined);
      this.prepared.set(sql, statement);
    }
    const ready = statement;
    return new Promise((resolve, reject) => {
      ready.all<Row>(parameters, (error, rows) => (error ? reject(error) : resolve(rows)));
    });
  }
}

function withExtra(core: Json, extraText: unknown): Json {
  if (typeof extraText !== 'string' || extraText === '{}' || extraText === '') return core;
  let extra: unknown;
  try {
    extra = JSON.parse(extraText);
  } catch {
    return core;
  }
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) return core;
  const merged: Json = { ...core };
  for (const [key, value] of Object.entries(extra)) {
    if (!Object.hasOwn(core, key) && key !== '__proto__') merged[key] = value;
  }
  return merged;
}

function toRoom(row: Row): Json {
  const core = {
    id: row.id,
    name: row.name,
    topic: row.topic,
    isPrivate: row.is_private !== 0,
    ownerId: row.owner_id,
    memberCount: row.member_count,
    createdAt: row.created_at,
  };
  return withExtra(core, row.extra);
}

function toMessage(row: Row): Json {
  const core = {
    id: row.id,
    roomId: row.room_id,
    senderId: row.sender_id,
    content: row.content,
    timestamp: row.timestamp,
    editedAt: row.edited_at,
    replyToId: row.reply_to_id,
  };
  return withExtra(core, row.extra);
}

function toReaction(row: Row): Json {
  return { messageId: row.message_id, userId: row.user_id, emoji: row.emoji, createdAt: row.created_at };
}

function toAttachment(row: Row): Json {
  const core = {
    id: row.id,
    messageId: row.message_id,
    roomId: row.room_id,
    fileName: row.file_name,
    mimeType: row.mime_type,
    sizeBytes: row.size_bytes,
    url: row.url,
    createdAt: row.created_at,
  };
  return withExtra(core, row.extra);
}

interface Paging {
  limit: number;
  offset: number;
  cursor?: [number, string];
}

/** Reads limit, offset and cursor without validation: the baseline trusts the benchmark's well-formed URLs. */
function pagingOf(query: URLSearchParams): Paging {
  const limit = Math.min(MAX_LIMIT, Math.max(1, Number(query.get('limit') ?? DEFAULT_LIMIT)));
  const offset = Number(query.get('offset') ?? 0);
  const cursorText = query.get('cursor');
  if (cursorText === null || cursorText === '') return { limit, offset };
  const cursor = JSON.parse(Buffer.from(cursorText, 'base64url').toString('utf8')) as [number, string];
  return { limit, offset: 0, cursor };
}

function pageOf(rows: Row[], paging: Paging, cursorOf?: (row: Row) => [unknown, unknown]): { items: Row[]; page: Json } {
  const hasMore = rows.length > paging.limit;
  const items = hasMore ? rows.slice(0, paging.limit) : rows;
  const last = items.at(-1);
  const nextCursor =
    hasMore && cursorOf && last !== undefined ? Buffer.from(JSON.stringify(cursorOf(last)), 'utf8').toString('base64url') : null;
  const nextOffset = hasMore && paging.cursor === undefined ? paging.offset + items.length : null;
  return {
    items,
    page: { limit: paging.limit, offset: paging.offset, returned: items.length, hasMore, nextOffset, nextCursor },
  };
}

const messageCursor = (row: Row): [unknown, unknown] => [row.timestamp, row.id];

class BaselineRoutes {
  private readonly db: Statements;

  constructor(connection: sqlite3.Database) {
    this.db = new Statements(connection);
  }

  async handle(path: string, query: URLSearchParams): Promise<Json> {
    const parts = path.split('/').slice(1).map(decodeURIComponent);
    if (parts[0] !== 'api') throw new NotFound();
    const [, collection, id, child, grandchild] = parts;

    if (collection === 'health' && id === undefined) {
      return { status: 'ok', version: VERSION, timestamp: Date.now(), exposeOnLan: false };
    }
    if (collection === 'rooms' && id === undefined) return this.listRooms(pagingOf(query));
    if (collection === 'rooms' && id !== undefined && child === 'messages') {
      await this.requireRow(SQL.roomExists, id);
      if (grandchild === undefined) return this.listMessages(id, pagingOf(query));
      if (grandchild === 'since') return this.listMessagesSince(id, Number(query.get('sinceTimestamp')), pagingOf(query));
    }
    if (collection === 'messages' && id !== undefined && child === undefined) {
      const [row] = await this.db.all(SQL.getMessage, [id]);
      if (row === undefined) throw new NotFound();
      return toMessage(row);
    }
    if (collection === 'messages' && id !== undefined && child === 'reactions') {
      await this.requireRow(SQL.messageExists, id);
      const paging = pagingOf(query);
      const rows = await this.db.all(SQL.listReactions, [id, paging.limit + 1, paging.offset]);
      const { items, page } = pageOf(rows, paging);
      return { reactions: items.map(toReaction), page };
    }
    if (collection === 'attachments' && id === undefined) {
      const paging = pagingOf(query);
      const rows = paging.cursor
        ? await this.db.all(SQL.listAttachmentsAfter, [...paging.cursor, paging.limit + 1, 0])
        : await this.db.all(SQL.listAttachments, [paging.limit + 1, paging.offset]);
      const { items, page } = pageOf(rows, paging, (row) => [row.created_at, row.id]);
      return { attachments: items.map(toAttachment), page };
    }
    throw new NotFound();
  }

  private async requireRow(sql: string, id: string): Promise<void> {
    const [row] = await this.db.all(sql, [id]);
    if (row === undefined) throw new NotFound();
  }

  private async listRooms(paging: Paging): Promise<Json> {
    const rows = await this.db.all(SQL.listRooms, [paging.limit + 1, paging.offset]);
    const { items, page } = pageOf(rows, paging);
    return { rooms: items.map(toRoom), page };
  }

  private async listMessages(roomId: string, paging: Paging): Promise<Json> {
    const rows = paging.cursor
      ? await this.db.all(SQL.listMessagesAfter, [roomId, ...paging.cursor, paging.limit + 1, 0])
      : await this.db.all(SQL.listMessages, [roomId, paging.limit + 1, paging.offset]);
    const { items, page } = pageOf(rows, paging, messageCursor);
    return { messages: items.map(toMessage), page };
  }

  private async listMessagesSince(roomId: string, since: number, paging: Paging): Promise<Json> {
    const rows = paging.cursor
      ? await this.db.all(SQL.listMessagesSinceAfter, [roomId, since, ...paging.cursor, paging.limit + 1, 0])
      : await this.db.all(SQL.listMessagesSince, [roomId, since, paging.limit + 1, paging.offset]);
    const { items, page } = pageOf(rows, paging, messageCursor);
    return { messages: items.map(toMessage), page };
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

function openReadOnly(path: string): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(path, sqlite3.OPEN_READONLY, (error) => (error ? reject(error) : resolve(db)));
  });
}

async function main(): Promise<void> {
  const databasePath = process.argv[2];
  if (databasePath === undefined || process.send === undefined) {
    throw new Error('Usage: fork this module with an IPC channel and the database path as its only argument.');
  }
  const db = await openReadOnly(databasePath);
  const routes = new BaselineRoutes(db);

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://baseline');
    routes.handle(url.pathname, url.searchParams).then(
      (body) => send(response, 200, body),
      (error: unknown) => {
        if (error instanceof NotFound) send(response, 404, { code: 'NOT_FOUND' });
        else {
          process.stderr.write(`baseline request ${url.pathname} failed: ${(error as Error).message}\n`);
          send(response, 500, { code: 'INTERNAL_ERROR' });
        }
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const stop = (): void => {
    server.closeAllConnections();
    server.close(() => db.close(() => process.exit(0)));
  };
  // The parent ends the baseline by closing the IPC channel, or by a signal when it cannot.
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);

  const message: BaselineListeningMessage = { type: 'listening', port: (server.address() as AddressInfo).port, pid: process.pid };
  process.send(message);
}

main().catch((error: unknown) => {
  process.stderr.write(`The baseline server could not start: ${(error as Error).message}\n`);
  process.exit(1);
});

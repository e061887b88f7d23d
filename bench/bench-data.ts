// The benchmark database: built once per message count with the fixture generator, then read for the values the cases need.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';

import sqlite3 from 'sqlite3';

import { generateDatabase } from '../fixtures/generate.js';
import { all, closeDatabase, openDatabase } from '../fixtures/sqlite.js';

export interface BenchDatabase {
  path: string;
  /** True when this run built the file, false when it reused one from an earlier run. */
  built: boolean;
  /** Seconds the build took, or 0 when the file was reused. */
  buildSeconds: number;
  sizeBytes: number;
}

/** Row counts and the ids and timestamps that the cases request. */
export interface BenchData {
  messages: number;
  reactions: number;
  attachments: number;
  /** The room with the most messages, whose pages the message cases read. */
  roomId: string;
  roomMessages: number;
  /** Offset of the deep page, a multiple of 100 that leaves at least one full page after it. */
  deepOffset: number;
  /** Timestamp before the room's first message, so `since` returns the room's first page. */
  oldTimestamp: number;
  /** Timestamp of the 51st newest message of the room, so `since` returns the 50 newest (fewer when timestamps tie). */
  recentTimestamp: number;
  /** The message with the most reactions. */
  messageId: string;
  messageReactions: number;
}

/** The deep page sits at this offset when the room is large enough, otherwise at 80% of the room. */
export const TARGET_DEEP_OFFSET = 800_000;
const PAGE = 100;

/** Path of the benchmark database for a message count, under `directory`. */
export function benchDatabasePath(directory: string, messages: number): string {
  return join(directory, `messages-${messages}.sqlite`);
}

/**
 * Returns the benchmark database for `messages` generated messages, building
 * it when no file exists. The generator renames a finished build into place,
 * so an existing file is complete.
 */
export async function ensureBenchDatabase(directory: string, messages: number): Promise<BenchDatabase> {
  const path = benchDatabasePath(directory, messages);
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isFile()) return { path, built: false, buildSeconds: 0, sizeBytes: existing.size };

  const started = performance.now();
  await generateDatabase({ out: path, messages });
  const buildSeconds = Math.round((performance.now() - started) / 100) / 10;
  return { path, built: true, buildSeconds, sizeBytes: (await stat(path)).size };
}

async function single<Row>(db: sqlite3.Database, sql: string, parameters: (string | number)[] = []): Promise<Row> {
  const [row] = await all<Row>(db, sql, parameters);
  if (row === undefined) throw new Error(`The benchmark database returned no row for: ${sql}`);
  return row;
}

/** Reads the counts, the largest room and the timestamps and ids that the cases use. */
export async function describeBenchData(path: string): Promise<BenchData> {
  const db = await openDatabase(path, sqlite3.OPEN_READONLY);
  try {
    const counts = await single<{ messages: number; reactions: number; attachments: number }>(
      db,
      `SELECT (SELECT COUNT(*) FROM messages) AS messages, (SELECT COUNT(*) FROM reactions) AS reactions,
              (SELECT COUNT(*) FROM attachments) AS attachments`,
    );
    const room = await single<{ room_id: string; count: number }>(
      db,
      'SELECT room_id, COUNT(*) AS count FROM messages GROUP BY room_id ORDER BY count DESC, room_id LIMIT 1',
    );
    if (room.count < 2 * PAGE) throw new Error(`The largest room has ${room.count} messages; the benchmark needs at least ${2 * PAGE}.`);
    const deepOffset =
      room.count >= TARGET_DEEP_OFFSET + PAGE ? TARGET_DEEP_OFFSET : Math.floor((room.count * 0.8) / PAGE) * PAGE;

    const oldest = await single<{ timestamp: number }>(db, 'SELECT MIN(timestamp) AS timestamp FROM messages WHERE room_id = ?', [room.room_id]);
    const recent = await single<{ timestamp: number }>(
      db,
      'SELECT timestamp FROM messages WHERE room_id = ? ORDER BY timestamp DESC, id DESC LIMIT 1 OFFSET 50',
      [room.room_id],
    );
    const reacted = await single<{ message_id: string; count: number }>(
      db,
      'SELECT message_id, COUNT(*) AS count FROM reactions GROUP BY message_id ORDER BY count DESC, message_id LIMIT 1',
    );
    return {
      ...counts,
      roomId: room.room_id,
      roomMessages: room.count,
      deepOffset,
      oldTimestamp: oldest.timestamp - 1,
      recentTimestamp: recent.timestamp,
      messageId: reacted.message_id,
      messageReactions: reacted.count,
    };
  } finally {
    await closeDatabase(db);
  }
}

export async function sqliteVersion(path: string): Promise<string> {
  const db = await openDatabase(path, sqlite3.OPEN_READONLY);
  try {
    return (await single<{ version: string }>(db, 'SELECT sqlite_version() AS version')).version;
  } finally {
    await closeDatabase(db);
  }
}

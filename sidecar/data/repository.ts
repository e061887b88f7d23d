// Parameterized queries of every route, and the mapping of rows to API objects.

import type { DesktopDatabase } from '../database.js';
import { toPage, type CursorPosition, type PageInfo, type PageRequest } from './pagination.js';

export type ApiObject = Record<string, unknown>;

export interface ListResult {
  items: ApiObject[];
  page: PageInfo;
}

export const CURRENT_USER_META_KEY = 'metoyou_currentUserId';

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  avatar_url: string | null;
  status: string;
  created_at: number;
  extra: string;
}

interface RoomRow {
  id: string;
  name: string;
  topic: string | null;
  is_private: number;
  owner_id: string | null;
  created_at: number;
  member_count: number;
  extra: string;
}

interface MessageRow {
  id: string;
  room_id: string;
  sender_id: string;
  content: string;
  timestamp: number;
  edited_at: number | null;
  reply_to_id: string | null;
  extra: string;
}

interface ReactionRow {
  message_id: string;
  user_id: string;
  emoji: string;
  created_at: number;
}

interface AttachmentRow {
  id: string;
  message_id: string;
  room_id: string;
  file_name: string;
  mime_type: string;
  size_bytes: number;
  url: string | null;
  created_at: number;
  extra: string;
}

interface BanRow {
  room_id: string;
  user_id: string;
  reason: string | null;
  banned_by: string | null;
  created_at: number;
  expires_at: number | null;
}

/**
 * Adds the keys of a row's `extra` JSON object after the documented fields.
 * A documented field always wins, and text that is not a JSON object is ignored.
 */
function withExtra(core: ApiObject, extraText: string): ApiObject {
  if (extraText === '{}' || extraText === '') return core;
  let extra: unknown;
  try {
    extra = JSON.parse(extraText);
  } catch {
    return core;
  }
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) return core;
  const merged: ApiObject = { ...core };
  for (const [key, value] of Object.entries(extra)) {
    if (!Object.hasOwn(core, key) && key !== '__proto__') merged[key] = value;
  }
  return merged;
}

function toUser(row: UserRow): ApiObject {
  return withExtra(
    {
      id: row.id,
      username: row.username,
      displayName: row.display_name,
      avatarUrl: row.avatar_url,
      status: row.status,
      createdAt: row.created_at,
    },
    row.extra,
  );
}

function toRoom(row: RoomRow): ApiObject {
  return withExtra(
    {
      id: row.id,
      name: row.name,
      topic: row.topic,
      isPrivate: row.is_private !== 0,
      ownerId: row.owner_id,
      memberCount: row.member_count,
      createdAt: row.created_at,
    },
    row.extra,
  );
}

function toMessage(row: MessageRow): ApiObject {
  return withExtra(
    {
      id: row.id,
      roomId: row.room_id,
      senderId: row.sender_id,
      content: row.content,
      timestamp: row.timestamp,
      editedAt: row.edited_at,
      replyToId: row.reply_to_id,
    },
    row.extra,
  );
}

function toReaction(row: ReactionRow): ApiObject {
  return { messageId: row.message_id, userId: row.user_id, emoji: row.emoji, createdAt: row.created_at };
}

function toAttachment(row: AttachmentRow): ApiObject {
  return withExtra(
    {
      id: row.id,
      messageId: row.message_id,
      roomId: row.room_id,
      fileName: row.file_name,
      mimeType: row.mime_type,
      sizeBytes: row.size_bytes,
      url: row.url,
      createdAt: row.created_at,
    },
    row.extra,
  );
}

function toBan(row: BanRow): ApiObject {
  return {
    roomId: row.room_id,
    userId: row.user_id,
    reason: row.reason,
    bannedBy: row.banned_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

const USER_COLUMNS = 'u.id, u.username, u.display_name, u.avatar_url, u.status, u.created_at, u.extra';
const MESSAGE_COLUMNS = 'id, room_id, sender_id, content, timestamp, edited_at, reply_to_id, extra';
const ATTACHMENT_COLUMNS = 'id, message_id, room_id, file_name, mime_type, size_bytes, url, created_at, extra';
const BAN_COLUMNS = 'room_id, user_id, reason, banned_by, created_at, expires_at';
const ROOM_SELECT = `SELECT r.id, r.name, r.topic, r.is_private, r.owner_id, r.created_at, r.extra,
  (SELECT COUNT(*) FROM room_members m WHERE m.room_id = r.id) AS member_count FROM rooms r`;

/** SQL condition and parameters that start a keyset page after `cursor`. */
function afterCursor(sortColumn: string, idColumn: string, cursor: CursorPosition | undefined) {
  if (!cursor) return { sql: '', parameters: [] as (string | number)[] };
  return { sql: ` AND (${sortColumn}, ${idColumn}) > (?, ?)`, parameters: [cursor.sortKey, cursor.id] };
}

/** Offset of a query: a cursor page starts right after the cursor, so it ignores `offset`. */
function offsetOf(request: PageRequest): number {
  return request.cursor ? 0 : request.offset;
}

export class Repository {
  constructor(private readonly db: DesktopDatabase) {}

  async roomExists(roomId: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 AS found FROM rooms WHERE id = ?', [roomId])) !== undefined;
  }

  async userExists(userId: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 AS found FROM users WHERE id = ?', [userId])) !== undefined;
  }

  async messageExists(messageId: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 AS found FROM messages WHERE id = ?', [messageId])) !== undefined;
  }

  async listRooms(request: PageRequest): Promise<ListResult> {
    const rows = await this.db.all<RoomRow>(`${ROOM_SELECT} ORDER BY r.created_at, r.id LIMIT ? OFFSET ?`, [
      request.limit + 1,
      request.offset,
    ]);
    const { items, page } = toPage(rows, request);
    return { items: items.map(toRoom), page };
  }

  async getRoom(roomId: string): Promise<ApiObject | undefined> {
    const row = await this.db.get<RoomRow>(`${ROOM_SELECT} WHERE r.id = ?`, [roomId]);
    return row && toRoom(row);
  }

  async listRoomUsers(roomId: string, request: PageRequest): Promise<ListResult> {
    const rows = await this.db.all<UserRow & { role: string; joined_at: number }>(
      `SELECT ${USER_COLUMNS}, m.role, m.joined_at FROM room_members m JOIN users u ON u.id = m.user_id
       WHERE m.room_id = ? ORDER BY m.joined_at, m.user_id LIMIT ? OFFSET ?`,
      [roomId, request.limit + 1, request.offset],
    );
    const { items, page } = toPage(rows, request);
    return { items: items.map((row) => ({ ...toUser(row), role: row.role, joinedAt: row.joined_at })), page };
  }

  async listMessages(roomId: string, request: PageRequest): Promise<ListResult> {
    const after = afterCursor('timestamp', 'id', request.cursor);
    const rows = await this.db.all<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = ?${after.sql}
       ORDER BY timestamp, id LIMIT ? OFFSET ?`,
      [roomId, ...after.parameters, request.limit + 1, offsetOf(request)],
    );
    return this.messagePage(rows, request);
  }

  async listMessagesSince(roomId: string, sinceTimestamp: number, request: PageRequest): Promise<ListResult> {
    const after = afterCursor('timestamp', 'id', request.cursor);
    const rows = await this.db.all<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = ? AND timestamp > ?${after.sql}
       ORDER BY timestamp, id LIMIT ? OFFSET ?`,
      [roomId, sinceTimestamp, ...after.parameters, request.limit + 1, offsetOf(request)],
    );
    return this.messagePage(rows, request);
  }

  async getMessage(messageId: string): Promise<ApiObject | undefined> {
    const row = await this.db.get<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`, [messageId]);
    return row && toMessage(row);
  }

  async listReactions(messageId: string, request: PageRequest): Promise<ListResult> {
    const rows = await this.db.all<ReactionRow>(
      `SELECT message_id, user_id, emoji, created_at FROM reactions WHERE message_id = ?
       ORDER BY created_at, user_id, emoji LIMIT ? OFFSET ?`,
      [messageId, request.limit + 1, request.offset],
    );
    const { items, page } = toPage(rows, request);
    return { items: items.map(toReaction), page };
  }

  async listMessageAttachments(messageId: string, request: PageRequest): Promise<ListResult> {
    const rows = await this.db.all<AttachmentRow>(
      `SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE message_id = ?
       ORDER BY created_at, id LIMIT ? OFFSET ?`,
      [messageId, request.limit + 1, request.offset],
    );
    const { items, page } = toPage(rows, request);
    return { items: items.map(toAttachment), page };
  }

  async listAttachments(request: PageRequest): Promise<ListResult> {
    const after = afterCursor('created_at', 'id', request.cursor);
    const rows = await this.db.all<AttachmentRow>(
      `SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE 1 = 1${after.sql}
       ORDER BY created_at, id LIMIT ? OFFSET ?`,
      [...after.parameters, request.limit + 1, offsetOf(request)],
    );
    const { items, page } = toPage(rows, request, (row) => ({ sortKey: row.created_at, id: row.id }));
    return { items: items.map(toAttachment), page };
  }

  async listActiveBans(roomId: string, now: number, request: PageRequest): Promise<ListResult> {
    const rows = await this.db.all<BanRow>(
      `SELECT ${BAN_COLUMNS} FROM bans WHERE room_id = ? AND (expires_at IS NULL OR expires_at > ?)
       ORDER BY created_at, user_id LIMIT ? OFFSET ?`,
      [roomId, now, request.limit + 1, request.offset],
    );
    const { items, page } = toPage(rows, request);
    return { items: items.map(toBan), page };
  }

  /** Returns the user's ban in the room when it is active at `now`. */
  async getActiveBan(roomId: string, userId: string, now: number): Promise<ApiObject | undefined> {
    const row = await this.db.get<BanRow>(
      `SELECT ${BAN_COLUMNS} FROM bans WHERE room_id = ? AND user_id = ? AND (expires_at IS NULL OR expires_at > ?)`,
      [roomId, userId, now],
    );
    return row && toBan(row);
  }

  async getUser(userId: string): Promise<ApiObject | undefined> {
    const row = await this.db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users u WHERE u.id = ?`, [userId]);
    return row && toUser(row);
  }

  /** Returns the stored JSON value, or undefined when no row matches; text that is not JSON is returned as a string. */
  async getPluginData(pluginId: string, key: string, scope: 'local' | 'server', serverId: string): Promise<{ value: unknown } | undefined> {
    const row = await this.db.get<{ value: string }>(
      'SELECT value FROM plugin_data WHERE plugin_id = ? AND scope = ? AND server_id = ? AND key = ?',
      [pluginId, scope, serverId, key],
    );
    if (!row) return undefined;
    try {
      return { value: JSON.parse(row.value) };
    } catch {
      return { value: row.value };
    }
  }

  async getMeta(key: string): Promise<string | undefined> {
    const row = await this.db.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]);
    return row?.value;
  }

  private messagePage(rows: MessageRow[], request: PageRequest): ListResult {
    const { items, page } = toPage(rows, request, (row) => ({ sortKey: row.timestamp, id: row.id }));
    return { items: items.map(toMessage), page };
  }
}

// Protected routes that read the desktop database.

import * as yup from 'yup';

import { defineRoute } from './definition.js';
import { cursorPagingQuery, identifier, pagingQuery, requiredText, requiredTimestamp, scopeParameter, optionalText } from './parameters.js';
import { CURRENT_USER_META_KEY, type ListResult } from '../data/repository.js';
import { decodeCursor, type PageRequest } from '../data/pagination.js';
import { ApiError } from '../errors.js';

const EXAMPLE_ROOM_ID = 'room-7ebdde75';
const EXAMPLE_MESSAGE_ID = 'msg-20260429-001';

const roomParams = yup.object({ roomId: identifier('Room id.', EXAMPLE_ROOM_ID) });
const messageParams = yup.object({ messageId: identifier('Message id.', EXAMPLE_MESSAGE_ID) });
const pagingSchema = yup.object(pagingQuery);
const cursorPagingSchema = yup.object(cursorPagingQuery);

interface PagingInput {
  limit: number;
  offset: number;
  cursor?: string;
}

function pageRequest(query: PagingInput): PageRequest {
  if (query.cursor === undefined || query.cursor === '') return { limit: query.limit, offset: query.offset };
  if (query.offset !== 0) {
    throw new ApiError('INVALID_REQUEST', 'Pass either cursor or a non-zero offset, not both.');
  }
  return { limit: query.limit, offset: 0, cursor: decodeCursor(query.cursor) };
}

function listBody(property: string, result: ListResult) {
  return { [property]: result.items, page: result.page };
}

export const dataRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/profile',
    operationId: 'getProfile',
    summary: 'Get the current user profile',
    description: 'Reads the profile of the user signed in to this desktop app (meta key `metoyou_currentUserId`).',
    tag: 'Users',
    auth: true,
    readsDatabase: true,
    response: { status: 200, description: 'The current user.', schema: 'User' },
    errors: ['USER_NOT_FOUND'],
    async handle({ services }) {
      const userId = await services.repository.getMeta(CURRENT_USER_META_KEY);
      const user = userId === undefined ? undefined : await services.repository.getUser(userId);
      if (!user) throw new ApiError('USER_NOT_FOUND', 'This desktop has no signed-in user profile.');
      return user;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/rooms',
    operationId: 'listRooms',
    summary: 'List rooms',
    description: 'Lists rooms known to this device, oldest first, ordered by (createdAt, id).',
    tag: 'Rooms',
    auth: true,
    readsDatabase: true,
    query: pagingSchema,
    response: { status: 200, description: 'A page of rooms.', schema: 'RoomList' },
    errors: [],
    async handle({ query, services }) {
      return listBody('rooms', await services.repository.listRooms(pageRequest(query)));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/rooms/{roomId}',
    operationId: 'getRoom',
    summary: 'Get a room',
    description: 'Reads one room by id.',
    tag: 'Rooms',
    auth: true,
    readsDatabase: true,
    params: roomParams,
    response: { status: 200, description: 'The room.', schema: 'Room' },
    errors: ['ROOM_NOT_FOUND'],
    async handle({ params, services }) {
      const room = await services.repository.getRoom(params.roomId);
      if (!room) throw new ApiError('ROOM_NOT_FOUND', `No room has the id "${params.roomId}".`);
      return room;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/rooms/{roomId}/users',
    operationId: 'listRoomUsers',
    summary: 'List the users of a room',
    description: 'Lists the members of a room with their role, ordered by (joinedAt, id).',
    tag: 'Rooms',
    auth: true,
    readsDatabase: true,
    params: roomParams,
    query: pagingSchema,
    response: { status: 200, description: 'A page of room members.', schema: 'RoomUserList' },
    errors: ['ROOM_NOT_FOUND'],
    async handle({ params, query, services }) {
      await requireRoom(services.repository, params.roomId);
      return listBody('users', await services.repository.listRoomUsers(params.roomId, pageRequest(query)));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/rooms/{roomId}/messages',
    operationId: 'listRoomMessages',
    summary: 'List the messages of a room',
    description:
      'Lists local messages of a room, oldest first, ordered by (timestamp, id). ' +
      '`limit` defaults to 100 and is clamped to 1..500; `offset` defaults to 0. ' +
      'For deep pages pass the previous page\'s `nextCursor` as `cursor`: it costs the same at any depth.',
    tag: 'Messages',
    auth: true,
    readsDatabase: true,
    params: roomParams,
    query: cursorPagingSchema,
    response: { status: 200, description: 'A page of messages.', schema: 'MessageList' },
    errors: ['ROOM_NOT_FOUND'],
    async handle({ params, query, services }) {
      const page = pageRequest(query);
      await requireRoom(services.repository, params.roomId);
      return listBody('messages', await services.repository.listMessages(params.roomId, page));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/rooms/{roomId}/messages/since',
    operationId: 'listRoomMessagesSince',
    summary: 'List the messages of a room after a timestamp',
    description:
      'Lists local messages with a timestamp strictly after `sinceTimestamp`, oldest first, ordered by (timestamp, id). ' +
      'At most `limit` messages (default 100, clamped to 1..500) are returned; when `page.hasMore` is true, ' +
      'fetch the rest by passing `page.nextCursor` as `cursor` with the same `sinceTimestamp`.',
    tag: 'Messages',
    auth: true,
    readsDatabase: true,
    params: roomParams,
    query: yup.object({
      sinceTimestamp: requiredTimestamp('Unix time in milliseconds; only messages after it are returned.', 1777470000000),
      ...cursorPagingQuery,
    }),
    response: { status: 200, description: 'A page of messages after the timestamp.', schema: 'MessageList' },
    errors: ['ROOM_NOT_FOUND'],
    async handle({ params, query, services }) {
      const page = pageRequest(query);
      await requireRoom(services.repository, params.roomId);
      return listBody('messages', await services.repository.listMessagesSince(params.roomId, query.sinceTimestamp, page));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/rooms/{roomId}/bans',
    operationId: 'listRoomBans',
    summary: 'List the active bans of a room',
    description: 'Lists bans of a room that have not expired, ordered by (createdAt, userId).',
    tag: 'Rooms',
    auth: true,
    readsDatabase: true,
    params: roomParams,
    query: pagingSchema,
    response: { status: 200, description: 'A page of active bans.', schema: 'BanList' },
    errors: ['ROOM_NOT_FOUND'],
    async handle({ params, query, services }) {
      await requireRoom(services.repository, params.roomId);
      return listBody('bans', await services.repository.listActiveBans(params.roomId, services.now(), pageRequest(query)));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/rooms/{roomId}/bans/{userId}',
    operationId: 'getRoomBanStatus',
    summary: 'Check whether a user is banned in a room',
    description: 'Returns `isBanned: true` with the ban when the user has an active ban in the room; an expired ban does not count.',
    tag: 'Rooms',
    auth: true,
    readsDatabase: true,
    params: yup.object({
      roomId: identifier('Room id.', EXAMPLE_ROOM_ID),
      userId: identifier('User id.', 'user-muse-01'),
    }),
    response: { status: 200, description: 'The ban status.', schema: 'BanStatus', example: { isBanned: false } },
    errors: ['ROOM_NOT_FOUND', 'USER_NOT_FOUND'],
    async handle({ params, services }) {
      await requireRoom(services.repository, params.roomId);
      if (!(await services.repository.userExists(params.userId))) {
        throw new ApiError('USER_NOT_FOUND', `No user has the id "${params.userId}".`);
      }
      const ban = await services.repository.getActiveBan(params.roomId, params.userId, services.now());
      return ban ? { isBanned: true, ban } : { isBanned: false };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/messages/{messageId}',
    operationId: 'getMessage',
    summary: 'Get a message',
    description: 'Reads one local message by id.',
    tag: 'Messages',
    auth: true,
    readsDatabase: true,
    params: messageParams,
    response: { status: 200, description: 'The message.', schema: 'Message' },
    errors: ['MESSAGE_NOT_FOUND'],
    async handle({ params, services }) {
      const message = await services.repository.getMessage(params.messageId);
      if (!message) throw new ApiError('MESSAGE_NOT_FOUND', `No message has the id "${params.messageId}".`);
      return message;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/messages/{messageId}/reactions',
    operationId: 'listMessageReactions',
    summary: 'List the reactions to a message',
    description: 'Lists reactions to a message, ordered by (createdAt, userId, emoji).',
    tag: 'Messages',
    auth: true,
    readsDatabase: true,
    params: messageParams,
    query: pagingSchema,
    response: { status: 200, description: 'A page of reactions.', schema: 'ReactionList' },
    errors: ['MESSAGE_NOT_FOUND'],
    async handle({ params, query, services }) {
      await requireMessage(services.repository, params.messageId);
      return listBody('reactions', await services.repository.listReactions(params.messageId, pageRequest(query)));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/messages/{messageId}/attachments',
    operationId: 'listMessageAttachments',
    summary: 'List the attachments of a message',
    description: 'Lists attachment metadata of a message, ordered by (createdAt, id).',
    tag: 'Messages',
    auth: true,
    readsDatabase: true,
    params: messageParams,
    query: pagingSchema,
    response: { status: 200, description: 'A page of attachments.', schema: 'AttachmentList' },
    errors: ['MESSAGE_NOT_FOUND'],
    async handle({ params, query, services }) {
      await requireMessage(services.repository, params.messageId);
      return listBody('attachments', await services.repository.listMessageAttachments(params.messageId, pageRequest(query)));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/users/{userId}',
    operationId: 'getUser',
    summary: 'Get a user',
    description: 'Reads one user by id.',
    tag: 'Users',
    auth: true,
    readsDatabase: true,
    params: yup.object({ userId: identifier('User id.', 'user-muse-01') }),
    response: { status: 200, description: 'The user.', schema: 'User' },
    errors: ['USER_NOT_FOUND'],
    async handle({ params, services }) {
      const user = await services.repository.getUser(params.userId);
      if (!user) throw new ApiError('USER_NOT_FOUND', `No user has the id "${params.userId}".`);
      return user;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/attachments',
    operationId: 'listAttachments',
    summary: 'List all attachments',
    description:
      'Lists attachment metadata stored on this device, ordered by (createdAt, id). ' +
      'At most `limit` items (default 100, clamped to 1..500) come back; when `page.hasMore` is true, pass `page.nextCursor` as `cursor`.',
    tag: 'Attachments',
    auth: true,
    readsDatabase: true,
    query: cursorPagingSchema,
    response: { status: 200, description: 'A page of attachments.', schema: 'AttachmentList' },
    errors: [],
    async handle({ query, services }) {
      return listBody('attachments', await services.repository.listAttachments(pageRequest(query)));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/plugin-data',
    operationId: 'getPluginData',
    summary: 'Read a plugin data value',
    description: 'Reads a plugin data value. `scope` is `local` or `server`; `serverId` is required for `server` and not allowed for `local`.',
    tag: 'Plugin data',
    auth: true,
    readsDatabase: true,
    query: yup.object({
      pluginId: requiredText('Plugin id.', 'example.soundboard'),
      key: requiredText('Key of the value.', 'favorites'),
      scope: scopeParameter(),
      serverId: optionalText('Server id; required when scope is `server`.', EXAMPLE_ROOM_ID),
    }),
    response: {
      status: 200,
      description: 'The stored JSON value.',
      schema: 'PluginDataValue',
      example: { value: [{ label: 'Chime', url: 'https://cdn.example.com/chime.wav' }] },
    },
    errors: ['PLUGIN_DATA_NOT_FOUND'],
    async handle({ query, services }) {
      const serverId = query.serverId ?? '';
      if (query.scope === 'server' && serverId === '') {
        throw new ApiError('INVALID_REQUEST', 'serverId is required when scope is server.');
      }
      if (query.scope === 'local' && serverId !== '') {
        throw new ApiError('INVALID_REQUEST', 'serverId applies only to scope=server; remove it or use scope=server.');
      }
      const data = await services.repository.getPluginData(query.pluginId, query.key, query.scope, serverId);
      if (!data) {
        throw new ApiError('PLUGIN_DATA_NOT_FOUND', `No ${query.scope} value "${query.key}" is stored for plugin "${query.pluginId}".`);
      }
      return data;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/meta/{key}',
    operationId: 'getMeta',
    summary: 'Read a metadata value',
    description: 'Reads a desktop metadata value by key.',
    tag: 'Metadata',
    auth: true,
    readsDatabase: true,
    params: yup.object({ key: identifier('Metadata key.', CURRENT_USER_META_KEY) }),
    response: {
      status: 200,
      description: 'The value.',
      schema: 'MetaValue',
      example: { key: CURRENT_USER_META_KEY, value: 'user-alice-01' },
    },
    errors: ['META_KEY_NOT_FOUND'],
    async handle({ params, services }) {
      const value = await services.repository.getMeta(params.key);
      if (value === undefined) throw new ApiError('META_KEY_NOT_FOUND', `No metadata value has the key "${params.key}".`);
      return { key: params.key, value };
    },
  }),
];

async function requireRoom(repository: { roomExists(id: string): Promise<boolean> }, roomId: string): Promise<void> {
  if (!(await repository.roomExists(roomId))) throw new ApiError('ROOM_NOT_FOUND', `No room has the id "${roomId}".`);
}

async function requireMessage(repository: { messageExists(id: string): Promise<boolean> }, messageId: string): Promise<void> {
  if (!(await repository.messageExists(messageId))) {
    throw new ApiError('MESSAGE_NOT_FOUND', `No message has the id "${messageId}".`);
  }
}

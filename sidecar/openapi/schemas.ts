// JSON Schemas of every request and response body, used by the OpenAPI document and by the response tests.

import type { SchemaObject } from 'openapi3-ts/oas31';

import { ALL_ERROR_CODES } from '../../shared/errors.js';

const nullableString: SchemaObject = { type: ['string', 'null'] };
const nullableTimestamp: SchemaObject = { type: ['integer', 'null'], description: 'Unix time in milliseconds, or null.' };
const timestamp: SchemaObject = { type: 'integer', description: 'Unix time in milliseconds.' };

const USER_REQUIRED = ['id', 'username', 'displayName', 'avatarUrl', 'status', 'createdAt'];

const USER_PROPERTIES: Record<string, SchemaObject> = {
  id: { type: 'string' },
  username: { type: 'string' },
  displayName: { type: 'string' },
  avatarUrl: nullableString,
  status: { type: 'string', description: 'Last known presence, such as `online` or `offline`.' },
  createdAt: timestamp,
};

function ref(name: string): SchemaObject {
  return { $ref: `#/components/schemas/${name}` };
}

function listOf(property: string, itemSchema: string, description: string): SchemaObject {
  return {
    type: 'object',
    description,
    required: [property, 'page'],
    additionalProperties: false,
    properties: {
      [property]: { type: 'array', items: ref(itemSchema) },
      page: ref('PageInfo'),
    },
  };
}

export const SCHEMAS: Record<string, SchemaObject> = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details with the stable error code as the `code` extension member.',
    required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
    additionalProperties: false,
    properties: {
      type: { type: 'string', description: 'URI reference of the documentation of this code.' },
      title: { type: 'string', description: 'Fixed summary of the code.' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string', description: 'What went wrong in this request and how to fix it.' },
      code: { type: 'string', enum: [...ALL_ERROR_CODES] },
      requestId: { type: 'string', description: 'Id of the request in the sidecar log.' },
    },
  },
  Health: {
    type: 'object',
    required: ['status', 'version', 'timestamp', 'exposeOnLan'],
    additionalProperties: false,
    properties: {
      status: { type: 'string', enum: ['ok'] },
      version: { type: 'string', description: 'Version of the local API server.' },
      timestamp: timestamp,
      exposeOnLan: { type: 'boolean', description: 'True when the server also listens on LAN addresses.' },
    },
  },
  LoginRequest: {
    type: 'object',
    required: ['username', 'password', 'serverUrl'],
    additionalProperties: false,
    properties: {
      username: { type: 'string', minLength: 1, maxLength: 256 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
      serverUrl: { type: 'string', format: 'uri', maxLength: 2048, description: 'An allowed signaling server URL.' },
    },
  },
  LoginResponse: {
    type: 'object',
    required: ['token', 'expiresAt', 'user'],
    additionalProperties: false,
    properties: {
      token: { type: 'string', pattern: '^local_[A-Za-z0-9_-]{43}$', description: 'Bearer token for the protected routes.' },
      expiresAt: { ...timestamp, description: 'Expiry of the token, in Unix milliseconds (one hour after login).' },
      user: {
        type: 'object',
        required: ['id', 'username', 'displayName'],
        additionalProperties: false,
        properties: { id: { type: 'string' }, username: { type: 'string' }, displayName: { type: 'string' } },
      },
    },
  },
  User: {
    type: 'object',
    description: 'A user known to this device. Extra keys of local app state may follow the documented ones.',
    required: USER_REQUIRED,
    additionalProperties: true,
    properties: USER_PROPERTIES,
  },
  RoomUser: {
    type: 'object',
    description: 'A room member: the user with the role in the room.',
    required: [...USER_REQUIRED, 'role', 'joinedAt'],
    additionalProperties: true,
    properties: {
      ...USER_PROPERTIES,
      role: { type: 'string', description: 'Role in the room, such as `owner`, `moderator` or `member`.' },
      joinedAt: timestamp,
    },
  },
  Room: {
    type: 'object',
    description: 'A room known to this device. Extra keys of local app state may follow the documented ones.',
    required: ['id', 'name', 'topic', 'isPrivate', 'ownerId', 'memberCount', 'createdAt'],
    additionalProperties: true,
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      topic: nullableString,
      isPrivate: { type: 'boolean' },
      ownerId: nullableString,
      memberCount: { type: 'integer', minimum: 0 },
      createdAt: timestamp,
    },
  },
  Message: {
    type: 'object',
    description: 'A message stored on this device. Extra keys of local app state may follow the documented ones.',
    required: ['id', 'roomId', 'senderId', 'content', 'timestamp', 'editedAt', 'replyToId'],
    additionalProperties: true,
    properties: {
      id: { type: 'string' },
      roomId: { type: 'string' },
      senderId: { type: 'string' },
      content: { type: 'string' },
      timestamp: timestamp,
      editedAt: nullableTimestamp,
      replyToId: nullableString,
    },
  },
  Reaction: {
    type: 'object',
    required: ['messageId', 'userId', 'emoji', 'createdAt'],
    additionalProperties: false,
    properties: {
      messageId: { type: 'string' },
      userId: { type: 'string' },
      emoji: { type: 'string' },
      createdAt: timestamp,
    },
  },
  Attachment: {
    type: 'object',
    description: 'Metadata of a message attachment. Extra keys of local app state may follow the documented ones.',
    required: ['id', 'messageId', 'roomId', 'fileName', 'mimeType', 'sizeBytes', 'url', 'createdAt'],
    additionalProperties: true,
    properties: {
      id: { type: 'string' },
      messageId: { type: 'string' },
      roomId: { type: 'string' },
      fileName: { type: 'string' },
      mimeType: { type: 'string' },
      sizeBytes: { type: 'integer', minimum: 0 },
      url: nullableString,
      createdAt: timestamp,
    },
  },
  Ban: {
    type: 'object',
    required: ['roomId', 'userId', 'reason', 'bannedBy', 'createdAt', 'expiresAt'],
    additionalProperties: false,
    properties: {
      roomId: { type: 'string' },
      userId: { type: 'string' },
      reason: nullableString,
      bannedBy: nullableString,
      createdAt: timestamp,
      expiresAt: { ...nullableTimestamp, description: 'End of the ban in Unix milliseconds, or null for a permanent ban.' },
    },
  },
  BanStatus: {
    type: 'object',
    required: ['isBanned'],
    additionalProperties: false,
    properties: {
      isBanned: { type: 'boolean' },
      ban: { ...ref('Ban'), description: 'The active ban; present only when `isBanned` is true.' },
    },
  },
  PageInfo: {
    type: 'object',
    description: 'Where this page sits in the list and how to fetch the next one.',
    required: ['limit', 'offset', 'returned', 'hasMore', 'nextOffset', 'nextCursor'],
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 500 },
      offset: { type: 'integer', minimum: 0 },
      returned: { type: 'integer', minimum: 0 },
      hasMore: { type: 'boolean' },
      nextOffset: { type: ['integer', 'null'], description: 'Pass as `offset` for the next page; null on the last page or when paging by cursor.' },
      nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page of lists that accept one; null otherwise.' },
    },
  },
  RoomList: listOf('rooms', 'Room', 'Rooms in (createdAt, id) order.'),
  RoomUserList: listOf('users', 'RoomUser', 'Room members in (joinedAt, id) order.'),
  MessageList: listOf('messages', 'Message', 'Messages in (timestamp, id) order, oldest first.'),
  ReactionList: listOf('reactions', 'Reaction', 'Reactions in (createdAt, userId, emoji) order.'),
  AttachmentList: listOf('attachments', 'Attachment', 'Attachments in (createdAt, id) order.'),
  BanList: listOf('bans', 'Ban', 'Active bans in (createdAt, userId) order.'),
  PluginDataValue: {
    type: 'object',
    required: ['value'],
    additionalProperties: false,
    properties: { value: { description: 'The stored JSON value: any JSON type.' } },
  },
  MetaValue: {
    type: 'object',
    required: ['key', 'value'],
    additionalProperties: false,
    properties: { key: { type: 'string' }, value: { type: 'string' } },
  },
};

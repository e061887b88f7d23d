// Success and error cases of every data route, on a copy of the demo database; every body is checked against the OpenAPI document.

import { expect } from 'chai';

import { DEMO_IDS } from '../../fixtures/generate.js';
import { copyDemoDatabase } from '../helpers/fixture-db.js';
import { startTestServer, type TestServer } from '../helpers/api-server.js';
import { request } from '../helpers/openapi-check.js';

type Json = Record<string, any>;

describe('data routes', () => {
  let server: TestServer;
  let token: string;

  beforeEach(async () => {
    server = await startTestServer(await copyDemoDatabase());
    token = await server.login();
  });

  afterEach(async () => {
    await server.close();
  });

  function get(path: string) {
    return request<Json>(server.baseUrl, path, { token });
  }

  describe('GET /api/health', () => {
    it('reports ok without a token', async () => {
      const response = await request<Json>(server.baseUrl, '/api/health');
      expect(response.status).to.equal(200);
      expect(response.body.status).to.equal('ok');
      expect(response.body.exposeOnLan).to.equal(false);
      expect(response.body.version).to.match(/^\d+\.\d+\.\d+/);
    });
  });

  describe('GET /api/profile', () => {
    it('returns the current desktop user', async () => {
      const response = await get('/api/profile');
      expect(response.status).to.equal(200);
      expect(response.body.id).to.equal(DEMO_IDS.currentUserId);
      expect(response.body.username).to.equal('alice');
      expect(response.body.displayName).to.equal('Alice');
    });

    it('requires a token', async () => {
      const response = await request<Json>(server.baseUrl, '/api/profile');
      expect(response.status).to.equal(401);
      expect(response.body.code).to.equal('AUTH_REQUIRED');
    });
  });

  describe('GET /api/rooms', () => {
    it('lists rooms in (createdAt, id) order', async () => {
      const response = await get('/api/rooms');
      expect(response.status).to.equal(200);
      const rooms = response.body.rooms as Json[];
      expect(rooms.map((room) => room.id)).to.include(DEMO_IDS.roomId);
      const keys = rooms.map((room) => [room.createdAt, room.id]);
      const sorted = [...keys].sort((a, b) => a[0] - b[0] || String(a[1]).localeCompare(String(b[1])));
      expect(keys).to.deep.equal(sorted);
      expect(response.body.page.hasMore).to.equal(false);
    });

    it('pages with limit and offset', async () => {
      const all = (await get('/api/rooms')).body.rooms as Json[];
      const first = await get('/api/rooms?limit=2&offset=0');
      expect(first.body.rooms.map((room: Json) => room.id)).to.deep.equal(all.slice(0, 2).map((room) => room.id));
      expect(first.body.page.hasMore).to.equal(true);
      expect(first.body.page.nextOffset).to.equal(2);
      const second = await get('/api/rooms?limit=2&offset=2');
      expect(second.body.rooms.map((room: Json) => room.id)).to.deep.equal(all.slice(2, 4).map((room) => room.id));
    });

    it('rejects a non-integer limit', async () => {
      for (const limit of ['abc', '1.5', '1e3', '', '0x10']) {
        const response = await get(`/api/rooms?limit=${encodeURIComponent(limit)}`);
        expect(response.status, `limit=${limit}`).to.equal(400);
        expect(response.body.code).to.equal('INVALID_REQUEST');
      }
    });

    it('rejects a negative offset', async () => {
      const response = await get('/api/rooms?offset=-1');
      expect(response.status).to.equal(400);
      expect(response.body.detail).to.match(/offset/);
    });

    it('rejects a repeated parameter', async () => {
      const response = await get('/api/rooms?limit=1&limit=2');
      expect(response.status).to.equal(400);
      expect(response.body.detail).to.match(/repeated: limit/);
    });
  });

  describe('GET /api/rooms/{roomId}', () => {
    it('returns the room with its extra state', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}`);
      expect(response.status).to.equal(200);
      expect(response.body.id).to.equal(DEMO_IDS.roomId);
      expect(response.body.memberCount).to.be.greaterThan(1);
      expect(response.body).to.not.have.property('unread_count');
      expect(response.body).to.not.have.property('extra');
    });

    it('answers 404 ROOM_NOT_FOUND for an unknown room', async () => {
      const response = await get('/api/rooms/room-missing');
      expect(response.status).to.equal(404);
      expect(response.body.code).to.equal('ROOM_NOT_FOUND');
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    });

    it('answers 400 for an id longer than 256 characters', async () => {
      const response = await get(`/api/rooms/${'r'.repeat(257)}`);
      expect(response.status).to.equal(400);
      expect(response.body.code).to.equal('INVALID_REQUEST');
    });
  });

  describe('GET /api/rooms/{roomId}/users', () => {
    it('lists members with their roles', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/users`);
      expect(response.status).to.equal(200);
      const ids = (response.body.users as Json[]).map((user) => user.id);
      expect(ids).to.include(DEMO_IDS.currentUserId);
      expect(ids).to.include(DEMO_IDS.otherUserId);
      for (const user of response.body.users as Json[]) expect(user.role).to.be.a('string');
    });

    it('answers 404 for an unknown room', async () => {
      const response = await get('/api/rooms/room-missing/users');
      expect(response.status).to.equal(404);
      expect(response.body.code).to.equal('ROOM_NOT_FOUND');
    });
  });

  describe('GET /api/rooms/{roomId}/messages', () => {
    it('defaults to 100 messages from offset 0', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/messages`);
      expect(response.status).to.equal(200);
      expect(response.body.messages).to.have.length(100);
      expect(response.body.page.limit).to.equal(100);
      expect(response.body.page.offset).to.equal(0);
      expect(response.body.page.hasMore).to.equal(true);
    });

    it('clamps limit into 1..500', async () => {
      const high = await get(`/api/rooms/${DEMO_IDS.roomId}/messages?limit=100000`);
      expect(high.body.page.limit).to.equal(500);
      const low = await get(`/api/rooms/${DEMO_IDS.roomId}/messages?limit=0`);
      expect(low.body.page.limit).to.equal(1);
      expect(low.body.messages).to.have.length(1);
      const negative = await get(`/api/rooms/${DEMO_IDS.roomId}/messages?limit=-5`);
      expect(negative.body.messages).to.have.length(1);
    });

    it('orders by timestamp then id', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/messages?limit=500`);
      const messages = response.body.messages as Json[];
      for (let index = 1; index < messages.length; index += 1) {
        const previous = messages[index - 1] as Json;
        const current = messages[index] as Json;
        const ordered = previous.timestamp < current.timestamp || (previous.timestamp === current.timestamp && previous.id < current.id);
        expect(ordered, `${previous.id} before ${current.id}`).to.equal(true);
      }
      const ids = messages.map((message) => message.id);
      const [firstTied, secondTied] = DEMO_IDS.tiedMessageIds;
      expect(ids.indexOf(firstTied)).to.be.lessThan(ids.indexOf(secondTied));
    });

    it('pages by cursor with the same rows as by offset', async () => {
      const byOffset = await get(`/api/rooms/${DEMO_IDS.roomId}/messages?limit=20&offset=20`);
      const first = await get(`/api/rooms/${DEMO_IDS.roomId}/messages?limit=20`);
      const cursor = first.body.page.nextCursor as string;
      expect(cursor).to.be.a('string');
      const byCursor = await get(`/api/rooms/${DEMO_IDS.roomId}/messages?limit=20&cursor=${cursor}`);
      expect(byCursor.body.messages.map((message: Json) => message.id)).to.deep.equal(byOffset.body.messages.map((message: Json) => message.id));
      expect(byCursor.body.page.nextOffset).to.equal(null);
    });

    it('rejects a malformed cursor', async () => {
      for (const cursor of ['not-base64!', Buffer.from('[1]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
        const response = await get(`/api/rooms/${DEMO_IDS.roomId}/messages?cursor=${encodeURIComponent(cursor)}`);
        expect(response.status, cursor).to.equal(400);
        expect(response.body.code).to.equal('INVALID_REQUEST');
      }
    });

    it('rejects a cursor with a non-zero offset', async () => {
      const first = await get(`/api/rooms/${DEMO_IDS.roomId}/messages?limit=2`);
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/messages?offset=5&cursor=${first.body.page.nextCursor}`);
      expect(response.status).to.equal(400);
    });

    it('answers 404 for an unknown room', async () => {
      const response = await get('/api/rooms/room-missing/messages');
      expect(response.status).to.equal(404);
      expect(response.body.code).to.equal('ROOM_NOT_FOUND');
    });

    it('passes extra message state through', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/messages?limit=500`);
      const withExtra = (response.body.messages as Json[]).filter((message) => Object.keys(message).length > 7);
      expect(withExtra.length).to.be.greaterThan(0);
      for (const message of response.body.messages as Json[]) {
        expect(message).to.not.have.property('local_state');
        expect(message).to.not.have.property('extra');
      }
    });
  });

  describe('GET /api/rooms/{roomId}/messages/since', () => {
    it('returns only messages strictly after the timestamp', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/messages/since?sinceTimestamp=${DEMO_IDS.sinceTimestamp}&limit=500`);
      expect(response.status).to.equal(200);
      const messages = response.body.messages as Json[];
      expect(messages.length).to.be.greaterThan(0);
      for (const message of messages) expect(message.timestamp).to.be.greaterThan(DEMO_IDS.sinceTimestamp);
      expect(messages.map((message) => message.id)).to.not.include(DEMO_IDS.boundaryMessageId);
    });

    it('caps the result and offers a cursor for the rest', async () => {
      const all = await get(`/api/rooms/${DEMO_IDS.roomId}/messages/since?sinceTimestamp=0&limit=500`);
      const first = await get(`/api/rooms/${DEMO_IDS.roomId}/messages/since?sinceTimestamp=0&limit=3`);
      expect(first.body.messages).to.have.length(3);
      expect(first.body.page.hasMore).to.equal(true);
      const next = await get(`/api/rooms/${DEMO_IDS.roomId}/messages/since?sinceTimestamp=0&limit=3&cursor=${first.body.page.nextCursor}`);
      const ids = [...first.body.messages, ...next.body.messages].map((message: Json) => message.id);
      expect(ids).to.deep.equal((all.body.messages as Json[]).slice(0, 6).map((message) => message.id));
    });

    it('requires sinceTimestamp', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/messages/since`);
      expect(response.status).to.equal(400);
      expect(response.body.code).to.equal('INVALID_REQUEST');
      expect(response.body.detail).to.match(/sinceTimestamp is required/);
    });

    it('names a too large sinceTimestamp', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/messages/since?sinceTimestamp=99999999999999999999`);
      expect(response.status).to.equal(400);
      expect(response.body.detail).to.match(/sinceTimestamp is too large/);
    });

    it('rejects a non-integer sinceTimestamp', async () => {
      for (const value of ['yesterday', '1.5', '1e12', 'NaN', 'Infinity', '99999999999999999999']) {
        const response = await get(`/api/rooms/${DEMO_IDS.roomId}/messages/since?sinceTimestamp=${value}`);
        expect(response.status, value).to.equal(400);
        expect(response.body.code).to.equal('INVALID_REQUEST');
      }
    });

    it('answers 404 for an unknown room', async () => {
      const response = await get('/api/rooms/room-missing/messages/since?sinceTimestamp=0');
      expect(response.status).to.equal(404);
    });
  });

  describe('GET /api/rooms/{roomId}/bans', () => {
    it('lists only active bans', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/bans`);
      expect(response.status).to.equal(200);
      const userIds = (response.body.bans as Json[]).map((ban) => ban.userId);
      expect(userIds).to.include(DEMO_IDS.activeBanUserId);
      expect(userIds).to.not.include(DEMO_IDS.expiredBanUserId);
    });

    it('answers 404 for an unknown room', async () => {
      const response = await get('/api/rooms/room-missing/bans');
      expect(response.status).to.equal(404);
    });
  });

  describe('GET /api/rooms/{roomId}/bans/{userId}', () => {
    it('reports an expired ban as not banned', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/bans/${DEMO_IDS.expiredBanUserId}`);
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal({ isBanned: false });
    });

    it('reports an active ban with its details', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/bans/${DEMO_IDS.activeBanUserId}`);
      expect(response.body.isBanned).to.equal(true);
      expect(response.body.ban.userId).to.equal(DEMO_IDS.activeBanUserId);
      expect(response.body.ban.expiresAt).to.equal(null);
    });

    it('answers 404 USER_NOT_FOUND for an unknown user', async () => {
      const response = await get(`/api/rooms/${DEMO_IDS.roomId}/bans/user-missing`);
      expect(response.status).to.equal(404);
      expect(response.body.code).to.equal('USER_NOT_FOUND');
    });

    it('answers 404 ROOM_NOT_FOUND for an unknown room', async () => {
      const response = await get(`/api/rooms/room-missing/bans/${DEMO_IDS.activeBanUserId}`);
      expect(response.body.code).to.equal('ROOM_NOT_FOUND');
    });
  });

  describe('GET /api/messages/{messageId}', () => {
    it('returns the message', async () => {
      const response = await get(`/api/messages/${DEMO_IDS.messageId}`);
      expect(response.status).to.equal(200);
      expect(response.body.id).to.equal(DEMO_IDS.messageId);
      expect(response.body.roomId).to.equal(DEMO_IDS.roomId);
    });

    it('answers 404 MESSAGE_NOT_FOUND for an unknown message', async () => {
      const response = await get('/api/messages/msg-missing');
      expect(response.status).to.equal(404);
      expect(response.body.code).to.equal('MESSAGE_NOT_FOUND');
    });

    it('finds ids with unicode and percent-encoded characters', async () => {
      const response = await get(`/api/messages/${encodeURIComponent('msg-ünïcødé/😀')}`);
      expect(response.status).to.equal(404);
      expect(response.body.detail).to.include('msg-ünïcødé/😀');
    });
  });

  describe('GET /api/messages/{messageId}/reactions', () => {
    it('lists reactions in (createdAt, userId, emoji) order', async () => {
      const response = await get(`/api/messages/${DEMO_IDS.messageId}/reactions`);
      expect(response.status).to.equal(200);
      const reactions = response.body.reactions as Json[];
      expect(reactions.length).to.be.at.least(3);
      const keys = reactions.map((reaction) => `${String(reaction.createdAt).padStart(15, '0')}|${reaction.userId}|${reaction.emoji}`);
      expect(keys).to.deep.equal([...keys].sort());
    });

    it('answers 404 for an unknown message', async () => {
      const response = await get('/api/messages/msg-missing/reactions');
      expect(response.body.code).to.equal('MESSAGE_NOT_FOUND');
    });
  });

  describe('GET /api/messages/{messageId}/attachments', () => {
    it('lists the attachments of the message', async () => {
      const response = await get(`/api/messages/${DEMO_IDS.messageId}/attachments`);
      expect(response.status).to.equal(200);
      const attachments = response.body.attachments as Json[];
      expect(attachments.map((attachment) => attachment.id)).to.have.members([DEMO_IDS.imageAttachmentId, DEMO_IDS.pdfAttachmentId]);
      for (const attachment of attachments) expect(attachment).to.not.have.property('local_path');
    });

    it('answers 404 for an unknown message', async () => {
      const response = await get('/api/messages/msg-missing/attachments');
      expect(response.body.code).to.equal('MESSAGE_NOT_FOUND');
    });
  });

  describe('GET /api/users/{userId}', () => {
    it('returns the user', async () => {
      const response = await get(`/api/users/${DEMO_IDS.otherUserId}`);
      expect(response.status).to.equal(200);
      expect(response.body.username).to.equal('muse');
    });

    it('answers 404 USER_NOT_FOUND for an unknown user', async () => {
      const response = await get('/api/users/user-missing');
      expect(response.status).to.equal(404);
      expect(response.body.code).to.equal('USER_NOT_FOUND');
    });
  });

  describe('GET /api/attachments', () => {
    it('lists every attachment across pages without gaps', async () => {
      const seen: string[] = [];
      let path = '/api/attachments?limit=7';
      for (let pageCount = 0; pageCount < 100; pageCount += 1) {
        const response = await get(path);
        expect(response.status).to.equal(200);
        seen.push(...(response.body.attachments as Json[]).map((attachment) => attachment.id as string));
        if (!response.body.page.hasMore) break;
        path = `/api/attachments?limit=7&cursor=${response.body.page.nextCursor}`;
      }
      const all = await get('/api/attachments?limit=500');
      expect(seen).to.deep.equal((all.body.attachments as Json[]).map((attachment) => attachment.id));
      expect(new Set(seen).size).to.equal(seen.length);
    });
  });

  describe('GET /api/plugin-data', () => {
    const base = '/api/plugin-data?pluginId=example.soundboard&key=favorites';

    it('reads a server-scoped value', async () => {
      const response = await get(`${base}&scope=server&serverId=${DEMO_IDS.roomId}`);
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal({ value: [{ label: 'Chime', url: 'https://cdn.example.com/chime.wav' }] });
    });

    it('requires serverId for server scope', async () => {
      const response = await get(`${base}&scope=server`);
      expect(response.status).to.equal(400);
      expect(response.body.detail).to.match(/serverId is required/);
    });

    it('rejects serverId with local scope', async () => {
      const response = await get(`${base}&scope=local&serverId=${DEMO_IDS.roomId}`);
      expect(response.status).to.equal(400);
    });

    it('rejects an unknown scope', async () => {
      const response = await get(`${base}&scope=global`);
      expect(response.status).to.equal(400);
      expect(response.body.detail).to.match(/scope must be `local` or `server`/);
    });

    it('requires pluginId and key', async () => {
      const response = await get('/api/plugin-data?scope=local');
      expect(response.status).to.equal(400);
      expect(response.body.detail).to.match(/pluginId is required/);
      expect(response.body.detail).to.match(/key is required/);
    });

    it('answers 404 PLUGIN_DATA_NOT_FOUND for a missing value', async () => {
      const response = await get(`${base}&scope=server&serverId=room-missing`);
      expect(response.status).to.equal(404);
      expect(response.body.code).to.equal('PLUGIN_DATA_NOT_FOUND');
    });
  });

  describe('GET /api/meta/{key}', () => {
    it('reads the current user id', async () => {
      const response = await get('/api/meta/metoyou_currentUserId');
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal({ key: 'metoyou_currentUserId', value: DEMO_IDS.currentUserId });
    });

    it('answers 404 META_KEY_NOT_FOUND for an unknown key', async () => {
      const response = await get('/api/meta/no_such_key');
      expect(response.status).to.equal(404);
      expect(response.body.code).to.equal('META_KEY_NOT_FOUND');
    });
  });

  describe('unknown paths and methods', () => {
    it('answers 404 ROUTE_NOT_FOUND for an unknown path', async () => {
      const response = await fetch(`${server.baseUrl}/api/nope`);
      const body = (await response.json()) as Json;
      expect(response.status).to.equal(404);
      expect(body.code).to.equal('ROUTE_NOT_FOUND');
    });

    it('answers 405 METHOD_NOT_ALLOWED for a wrong method', async () => {
      const response = await fetch(`${server.baseUrl}/api/rooms`, { method: 'DELETE' });
      const body = (await response.json()) as Json;
      expect(response.status).to.equal(405);
      expect(body.code).to.equal('METHOD_NOT_ALLOWED');
      expect(response.headers.get('allow')).to.match(/\bGET\b/);
      expect(body.detail).to.include('DELETE');
    });
  });
});

// The sidecar's database connection is read-only, and a full run leaves the file's bytes as they were.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { expect } from 'chai';

import { DEMO_IDS } from '../../fixtures/generate.js';
import { DesktopDatabase } from '../../sidecar/database.js';
import { copyDemoDatabase } from '../helpers/fixture-db.js';
import { startTestServer } from '../helpers/api-server.js';
import { request } from '../helpers/openapi-check.js';

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

describe('DesktopDatabase', () => {
  it('rejects writes on its connection', async () => {
    const database = new DesktopDatabase({ path: await copyDemoDatabase() });
    try {
      const statements = [
        "INSERT INTO meta (key, value) VALUES ('written', 'yes')",
        "UPDATE users SET display_name = 'Mallory'",
        'DELETE FROM messages',
        'CREATE TABLE intruder (id INTEGER)',
        'PRAGMA user_version = 99',
      ];
      for (const sql of statements) {
        let failure: NodeJS.ErrnoException | undefined;
        await database.run(sql).catch((error: NodeJS.ErrnoException) => {
          failure = error;
        });
        expect(failure, sql).to.not.equal(undefined);
        expect(failure?.code, sql).to.be.oneOf(['SQLITE_READONLY', 'SQLITE_ERROR']);
      }
      expect(await database.get("SELECT value FROM meta WHERE key = 'written'")).to.equal(undefined);
    } finally {
      await database.close();
    }
  });

  it('turns on query_only', async () => {
    const database = new DesktopDatabase({ path: await copyDemoDatabase() });
    try {
      const row = await database.get<{ query_only: number }>('PRAGMA query_only');
      expect(row?.query_only).to.equal(1);
    } finally {
      await database.close();
    }
  });

  it('leaves the file unchanged after a full run', async () => {
    const path = await copyDemoDatabase();
    const before = await sha256(path);
    const server = await startTestServer(path);
    try {
      const token = await server.login();
      const paths = [
        '/api/health',
        '/api/profile',
        '/api/rooms',
        `/api/rooms/${DEMO_IDS.roomId}`,
        `/api/rooms/${DEMO_IDS.roomId}/users`,
        `/api/rooms/${DEMO_IDS.roomId}/messages?limit=500`,
        `/api/rooms/${DEMO_IDS.roomId}/messages/since?sinceTimestamp=0`,
        `/api/rooms/${DEMO_IDS.roomId}/bans`,
        `/api/rooms/${DEMO_IDS.roomId}/bans/${DEMO_IDS.activeBanUserId}`,
        `/api/messages/${DEMO_IDS.messageId}`,
        `/api/messages/${DEMO_IDS.messageId}/reactions`,
        `/api/messages/${DEMO_IDS.messageId}/attachments`,
        `/api/users/${DEMO_IDS.otherUserId}`,
        '/api/attachments',
        `/api/plugin-data?pluginId=example.soundboard&key=favorites&scope=server&serverId=${DEMO_IDS.roomId}`,
        '/api/meta/metoyou_currentUserId',
      ];
      for (const path of paths) {
        const response = await request(server.baseUrl, path, { token });
        expect(response.status, path).to.equal(200);
      }
      await request(server.baseUrl, '/api/auth/logout', { method: 'POST', token });
    } finally {
      await server.close();
    }
    expect(await sha256(path)).to.equal(before);
  });
});

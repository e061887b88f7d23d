// Runs EXPLAIN QUERY PLAN on every statement the routes execute, captured from real requests, and rejects full scans and sorts of the large tables.

import { expect } from 'chai';
import sinon from 'sinon';
import sqlite3 from 'sqlite3';

import { DEMO_IDS } from '../../fixtures/generate.js';
import { all, closeDatabase, openDatabase } from '../../fixtures/sqlite.js';
import { DesktopDatabase } from '../../sidecar/database.js';
import { apiRoutes } from '../../sidecar/routes/index.js';
import { copyDemoDatabase } from '../helpers/fixture-db.js';
import { startTestServer, type TestServer } from '../helpers/api-server.js';

import type { SqlValue } from '../../fixtures/sqlite.js';

interface CapturedQuery {
  sql: string;
  parameters: SqlValue[];
}

interface PlanRow {
  detail: string;
}

/** Tables that grow with the message history, so a scan or a sort of them gets slower with every message. */
const LARGE_TABLES = ['messages', 'reactions', 'attachments', 'bans'];

const room = encodeURIComponent(DEMO_IDS.roomId);
const message = encodeURIComponent(DEMO_IDS.messageId);

/**
 * Requests that exercise each route that reads the database, keyed by
 * operationId. A request ending in `cursor=` is sent with the nextCursor of
 * the request before it, so the keyset form of the query runs too.
 */
const REQUESTS: Record<string, string[]> = {
  login: [],
  getProfile: ['/api/profile'],
  listRooms: ['/api/rooms', '/api/rooms?limit=2&offset=2'],
  getRoom: [`/api/rooms/${room}`],
  listRoomUsers: [`/api/rooms/${room}/users?limit=2&offset=1`],
  listRoomMessages: [`/api/rooms/${room}/messages?limit=5&offset=10`, `/api/rooms/${room}/messages?limit=5&cursor=`],
  listRoomMessagesSince: [
    `/api/rooms/${room}/messages/since?sinceTimestamp=${DEMO_IDS.sinceTimestamp}&limit=5&offset=2`,
    `/api/rooms/${room}/messages/since?sinceTimestamp=${DEMO_IDS.sinceTimestamp}&limit=5&cursor=`,
  ],
  listRoomBans: [`/api/rooms/${room}/bans?limit=1&offset=0`],
  getRoomBanStatus: [`/api/rooms/${room}/bans/${encodeURIComponent(DEMO_IDS.activeBanUserId)}`],
  getMessage: [`/api/messages/${message}`],
  listMessageReactions: [`/api/messages/${message}/reactions?limit=2&offset=1`],
  listMessageAttachments: [`/api/messages/${message}/attachments?limit=1&offset=1`],
  getUser: [`/api/users/${encodeURIComponent(DEMO_IDS.currentUserId)}`],
  listAttachments: ['/api/attachments?limit=2&offset=2', '/api/attachments?limit=2&cursor='],
  getPluginData: [`/api/plugin-data?pluginId=${DEMO_IDS.pluginId}&key=${DEMO_IDS.pluginKey}&scope=server&serverId=${room}`],
  getMeta: ['/api/meta/metoyou_currentUserId'],
};

/** Maps each table name and alias in the FROM and JOIN clauses to its table, because a plan names a table by its alias. */
function tablesByName(sql: string): Map<string, string> {
  const names = new Map<string, string>();
  const clause = /\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?/gi;
  for (const match of sql.matchAll(clause)) {
    const table = (match[1] ?? '').toLowerCase();
    const alias = (match[2] ?? '').toLowerCase();
    names.set(table, table);
    if (alias !== '' && !['where', 'order', 'join', 'on', 'limit', 'group', 'left', 'inner', 'cross'].includes(alias)) {
      names.set(alias, table);
    }
  }
  return names;
}

/** Returns each problem of a plan: a full scan of a large table, or a temporary B-tree that sorts one. */
function planProblems(sql: string, plan: PlanRow[]): string[] {
  const tables = tablesByName(sql);
  const readsLargeTable = [...tables.values()].some((table) => LARGE_TABLES.includes(table));
  const problems: string[] = [];
  for (const { detail } of plan) {
    // Older SQLite releases write "SCAN TABLE name" instead of "SCAN name".
    const scan = /^SCAN (?:TABLE )?(\w+)/.exec(detail);
    const table = scan ? tables.get((scan[1] ?? '').toLowerCase()) : undefined;
    if (table !== undefined && LARGE_TABLES.includes(table) && !/USING (COVERING )?INDEX/.test(detail)) {
      problems.push(`full scan of ${table}: ${detail}`);
    }
    if (readsLargeTable && /USE TEMP B-TREE FOR .*ORDER BY/.test(detail)) {
      problems.push(`sort in a temporary B-tree: ${detail}`);
    }
  }
  return problems;
}

describe('query plans', () => {
  let server: TestServer;
  let token: string;
  let planDb: sqlite3.Database;

  before(async () => {
    const path = await copyDemoDatabase();
    server = await startTestServer(path);
    token = await server.login();
    planDb = await openDatabase(path, sqlite3.OPEN_READONLY);
  });

  after(async () => {
    await server.close();
    await closeDatabase(planDb);
  });

  let spies: sinon.SinonSpy[];

  beforeEach(() => {
    spies = [sinon.spy(DesktopDatabase.prototype, 'all'), sinon.spy(DesktopDatabase.prototype, 'get')];
  });

  afterEach(() => {
    sinon.restore();
  });

  function capturedQueries(): CapturedQuery[] {
    return spies.flatMap((spy) =>
      spy.getCalls().map((call) => ({ sql: call.args[0] as string, parameters: [...((call.args[1] as SqlValue[] | undefined) ?? [])] })),
    );
  }

  /** Sends the requests of one route; a path ending in `cursor=` gets the nextCursor of the response before it. */
  async function exercise(paths: string[]): Promise<void> {
    let nextCursor: string | null = null;
    for (const template of paths) {
      const path = template.endsWith('cursor=') ? `${template}${encodeURIComponent(nextCursor ?? '')}` : template;
      if (template.endsWith('cursor=')) expect(nextCursor, `a nextCursor before ${template}`).to.be.a('string');
      const response = await fetch(server.baseUrl + path, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status, `GET ${path}`).to.equal(200);
      const body = (await response.json()) as { page?: { nextCursor?: string | null } };
      nextCursor = body.page?.nextCursor ?? null;
    }
  }

  async function explain(query: CapturedQuery): Promise<PlanRow[]> {
    return all<PlanRow>(planDb, `EXPLAIN QUERY PLAN ${query.sql}`, query.parameters);
  }

  it('has requests for every route that reads the database', () => {
    const databaseRoutes = apiRoutes.filter((route) => route.readsDatabase).map((route) => route.operationId);
    expect(databaseRoutes).to.have.length.greaterThan(0);
    for (const operationId of databaseRoutes) {
      expect(REQUESTS, `requests for ${operationId}`).to.have.property(operationId);
    }
  });

  it('flags a full scan and a sort in the checker', () => {
    expect(planProblems('SELECT * FROM messages', [{ detail: 'SCAN messages' }])).to.have.length(1);
    expect(planProblems('SELECT * FROM reactions r', [{ detail: 'SCAN r' }])).to.have.length(1);
    expect(planProblems('SELECT * FROM bans', [{ detail: 'USE TEMP B-TREE FOR ORDER BY' }])).to.have.length(1);
    expect(planProblems('SELECT * FROM attachments', [{ detail: 'SCAN attachments USING COVERING INDEX attachments_created' }])).to.deep.equal([]);
    expect(planProblems('SELECT * FROM rooms', [{ detail: 'SCAN rooms' }])).to.deep.equal([]);
  });

  it('flags a full scan and a sort in real plans', async () => {
    const scanSql = 'SELECT id FROM messages WHERE content = ?';
    expect(planProblems(scanSql, await explain({ sql: scanSql, parameters: ['hello'] }))).to.have.length(1);
    const sortSql = 'SELECT id FROM attachments WHERE message_id = ? ORDER BY size_bytes';
    expect(planProblems(sortSql, await explain({ sql: sortSql, parameters: [DEMO_IDS.messageId] }))).to.have.length(1);
  });

  for (const route of apiRoutes.filter((candidate) => candidate.readsDatabase)) {
    it(`${route.operationId} uses indexes`, async () => {
      if (route.operationId === 'login') await server.login();
      else await exercise(REQUESTS[route.operationId] ?? []);

      const captured = capturedQueries();
      expect(captured, `statements run by ${route.operationId}`).to.not.be.empty;
      for (const query of captured) {
        const plan = await explain(query);
        expect(plan, `plan of ${query.sql}`).to.not.be.empty;
        expect(planProblems(query.sql, plan), `plan of ${query.sql}\n${plan.map((row) => row.detail).join('\n')}`).to.deep.equal([]);
      }
    });
  }
});

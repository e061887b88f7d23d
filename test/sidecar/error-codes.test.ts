// Every registered error code is produced by a real request, so a code that can no longer happen fails here.

import { request as httpRequest } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'chai';
import sinon from 'sinon';
import sqlite3 from 'sqlite3';

import { ALL_ERROR_CODES, ERROR_CODES, type ErrorCode } from '../../shared/errors.js';
import { TokenStore } from '../../sidecar/auth/tokens.js';
import { Repository } from '../../sidecar/data/repository.js';
import { createDocsMiddleware } from '../../sidecar/docs/index.js';
import { copyDemoDatabase, makeTempDir } from '../helpers/fixture-db.js';
import { DEMO_PASSWORD, DEMO_SERVER_URL, startTestServer, type TestServer } from '../helpers/api-server.js';
import { expectDocumentedResponse, request, type CheckedResponse } from '../helpers/openapi-check.js';

type Json = Record<string, any>;

const LOGIN = { username: 'alice', password: DEMO_PASSWORD, serverUrl: DEMO_SERVER_URL };

/** Sends a request with headers that fetch does not let a caller set, such as Host and Origin. */
function rawRequest(server: TestServer, path: string, headers: Record<string, string>): Promise<CheckedResponse<Json>> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port: server.port, path, method: 'GET', headers }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
        resolve({ status: incoming.statusCode ?? 0, headers: responseHeaders, body: JSON.parse(text) as Json, text });
      });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Holds an exclusive lock on a rollback-journal database until `release` is called. */
async function lockExclusively(path: string): Promise<{ release(): Promise<void> }> {
  const writer = new sqlite3.Database(path);
  const exec = (sql: string) => new Promise<void>((resolve, reject) => writer.exec(sql, (error) => (error ? reject(error) : resolve())));
  await exec('PRAGMA journal_mode = DELETE');
  await exec('BEGIN EXCLUSIVE');
  return {
    async release() {
      await exec('ROLLBACK');
      await new Promise<void>((resolve) => writer.close(() => resolve()));
    },
  };
}

describe('error registry', () => {
  const servers: TestServer[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  async function serve(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
    const server = await startTestServer(...args);
    servers.push(server);
    return server;
  }

  async function demo(options: Parameters<typeof startTestServer>[1] = {}): Promise<TestServer> {
    return serve(await copyDemoDatabase(), options);
  }

  afterEach(async () => {
    sinon.restore();
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  const scenarios: Record<ErrorCode, () => Promise<CheckedResponse<Json>>> = {
    INVALID_REQUEST: async () => request((await demo()).baseUrl, '/api/rooms?limit=many', { token: await servers[0]!.login() }),
    AUTH_REQUIRED: async () => request((await demo()).baseUrl, '/api/rooms'),
    INVALID_TOKEN: async () => request((await demo()).baseUrl, '/api/rooms', { token: `local_${'x'.repeat(43)}` }),
    INVALID_CREDENTIALS: async () => request((await demo()).baseUrl, '/api/auth/login', { method: 'POST', body: { ...LOGIN, password: 'nope' } }),
    NO_ALLOWED_SERVERS: async () =>
      request((await demo({ settings: { allowedServers: [] } })).baseUrl, '/api/auth/login', { method: 'POST', body: LOGIN }),
    SERVER_NOT_ALLOWED: async () =>
      request((await demo()).baseUrl, '/api/auth/login', { method: 'POST', body: { ...LOGIN, serverUrl: 'https://other.test' } }),
    NOT_LOCAL_USER: async () =>
      request((await demo()).baseUrl, '/api/auth/login', { method: 'POST', body: { ...LOGIN, username: 'muse', password: 'hunter2 hunter2' } }),
    HOST_NOT_ALLOWED: async () => {
      const server = await demo();
      const response = await rawRequest(server, '/api/health', { host: 'evil.test' });
      expectDocumentedResponse('GET', '/api/health', response);
      return response;
    },
    ORIGIN_NOT_ALLOWED: async () => {
      const server = await demo();
      const response = await rawRequest(server, '/api/health', { host: `127.0.0.1:${server.port}`, origin: 'https://evil.test' });
      expectDocumentedResponse('GET', '/api/health', response);
      return response;
    },
    ROUTE_NOT_FOUND: async () => {
      const response = await fetch(`${(await demo()).baseUrl}/api/no-such-route`);
      return { status: response.status, headers: response.headers, body: (await response.json()) as Json, text: '' };
    },
    ROOM_NOT_FOUND: async () => request((await demo()).baseUrl, '/api/rooms/room-none', { token: await servers[0]!.login() }),
    MESSAGE_NOT_FOUND: async () => request((await demo()).baseUrl, '/api/messages/msg-none', { token: await servers[0]!.login() }),
    USER_NOT_FOUND: async () => request((await demo()).baseUrl, '/api/users/user-none', { token: await servers[0]!.login() }),
    META_KEY_NOT_FOUND: async () => request((await demo()).baseUrl, '/api/meta/none', { token: await servers[0]!.login() }),
    PLUGIN_DATA_NOT_FOUND: async () =>
      request((await demo()).baseUrl, '/api/plugin-data?pluginId=none&key=none&scope=local', { token: await servers[0]!.login() }),
    DOCS_DISABLED: async () => {
      const docs = createDocsMiddleware({ isScalarEnabled: () => false, isDocusaurusEnabled: () => false });
      return request((await demo({ beforeRoutes: [docs] })).baseUrl, '/docs');
    },
    METHOD_NOT_ALLOWED: async () => {
      const response = await fetch(`${(await demo()).baseUrl}/api/rooms`, { method: 'PUT' });
      return { status: response.status, headers: response.headers, body: (await response.json()) as Json, text: '' };
    },
    PAYLOAD_TOO_LARGE: async () =>
      request((await demo()).baseUrl, '/api/auth/login', { method: 'POST', body: { ...LOGIN, username: 'a'.repeat(10_000) } }),
    UNSUPPORTED_MEDIA_TYPE: async () =>
      request((await demo()).baseUrl, '/api/auth/login', { method: 'POST', rawBody: JSON.stringify(LOGIN), headers: { 'content-type': 'text/plain' } }),
    RATE_LIMITED: async () => {
      const server = await demo({ throttle: { perClientFailures: 1, globalFailures: 100, windowSeconds: 60 } });
      await request(server.baseUrl, '/api/auth/login', { method: 'POST', body: { ...LOGIN, password: 'nope' } });
      return request(server.baseUrl, '/api/auth/login', { method: 'POST', body: LOGIN });
    },
    TOO_MANY_TOKENS: async () => {
      const server = await demo({ tokens: new TokenStore(Date.now, 1) });
      await server.login();
      return request(server.baseUrl, '/api/auth/login', { method: 'POST', body: LOGIN });
    },
    INTERNAL_ERROR: async () => {
      const server = await demo();
      const token = await server.login();
      sinon.stub(Repository.prototype, 'getRoom').rejects(new Error('SELECT secret FROM /home/user/private.sqlite'));
      const response = await request<Json>(server.baseUrl, '/api/rooms/room-7ebdde75', { token });
      expect(response.text).to.not.include('SELECT');
      expect(response.text).to.not.include('/home/user');
      expect(response.text).to.not.match(/at .+\.js:\d+/);
      return response;
    },
    UPSTREAM_UNREACHABLE: async () => {
      const server = await demo({ verify: async () => ({ outcome: 'failed', reason: 'test' }) });
      return request(server.baseUrl, '/api/auth/login', { method: 'POST', body: LOGIN });
    },
    DATABASE_UNAVAILABLE: async () => {
      const directory = await makeTempDir();
      const server = await serve(join(directory, 'missing.sqlite'));
      return request(server.baseUrl, '/api/auth/login', { method: 'POST', body: LOGIN });
    },
    DATABASE_BUSY: async () => {
      const path = await copyDemoDatabase();
      const server = await serve(path, { databaseOptions: { busyTimeoutMs: 100 } });
      const token = await server.login();
      await server.database.close();
      const lock = await lockExclusively(path);
      cleanups.push(() => lock.release());
      return request(server.baseUrl, '/api/rooms', { token });
    },
    DATABASE_CORRUPT: async () => {
      const directory = await makeTempDir();
      const path = join(directory, 'not-a-database.sqlite');
      await writeFile(path, 'This is a text file, not a SQLite database.\n'.repeat(200));
      const server = await serve(path);
      return request(server.baseUrl, '/api/auth/login', { method: 'POST', body: LOGIN });
    },
  };

  it('has a scenario for every registered code', () => {
    expect(Object.keys(scenarios)).to.have.members(ALL_ERROR_CODES);
  });

  for (const code of ALL_ERROR_CODES) {
    it(`produces ${code}`, async () => {
      const response = await scenarios[code]();
      expect(response.status).to.equal(ERROR_CODES[code].status);
      expect(response.body.code).to.equal(code);
      expect(response.body.status).to.equal(ERROR_CODES[code].status);
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    });
  }
});

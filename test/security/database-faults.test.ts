// Faults of the desktop database file (missing, locked, corrupt, replaced, read-only folder) and the API's recovery from each.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';
import type sqlite3 from 'sqlite3';

import { DEMO_IDS } from '../../fixtures/generate.js';
import { closeDatabase, exec, openDatabase } from '../../fixtures/sqlite.js';
import { createApp, type AppSettings } from '../../sidecar/app.js';
import { TokenStore } from '../../sidecar/auth/tokens.js';
import { DesktopDatabase } from '../../sidecar/database.js';
import { DEMO_PASSWORD, DEMO_SERVER_URL, fakeVerify } from '../helpers/api-server.js';
import { copyDemoDatabase, demoDatabaseTemplate, makeTempDir } from '../helpers/fixture-db.js';
import { request, type CheckedResponse } from '../helpers/openapi-check.js';

type Json = Record<string, any>;

/** Short busy timeout, so that requests to a locked database fail quickly; the production default is 2 s. */
const BUSY_TIMEOUT_MS = 300;
/** Upper bound on the time to a DATABASE_BUSY response: the busy timeout plus a wide margin for slow machines. */
const BUSY_ANSWER_BOUND_MS = 5_000;

const ALICE = { userId: DEMO_IDS.currentUserId, username: 'alice', displayName: 'Alice', serverUrl: DEMO_SERVER_URL };

interface FaultServer {
  baseUrl: string;
  tokens: TokenStore;
  close(): Promise<void>;
}

/** Serves the app on 127.0.0.1 with a database that checks the file on every request and never waits to reopen. */
async function startFaultServer(databasePath: string): Promise<FaultServer> {
  const settings: AppSettings = {
    port: 0,
    exposeOnLan: false,
    allowedOrigins: [],
    allowedServers: [DEMO_SERVER_URL],
    scalarDocs: false,
    docusaurusDocs: false,
  };
  const database = new DesktopDatabase({ path: databasePath, busyTimeoutMs: BUSY_TIMEOUT_MS, identityCheckIntervalMs: 0, reopenDelayMs: 0 });
  const tokens = new TokenStore();
  const { app } = createApp({ database, settings: () => settings, tokens, verify: fakeVerify });
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  settings.port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${settings.port}`,
    tokens,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
}

function login(baseUrl: string): Promise<CheckedResponse<Json>> {
  return request<Json>(baseUrl, '/api/auth/login', {
    method: 'POST',
    body: { username: 'alice', password: DEMO_PASSWORD, serverUrl: DEMO_SERVER_URL },
  });
}

/** Copies the demo database next to `path` and renames it into place, the way an app replaces a file atomically. */
async function placeDemoDatabase(path: string): Promise<void> {
  const staging = `${path}.staging`;
  await copyFile(await demoDatabaseTemplate(), staging);
  await rename(staging, path);
}

function expectProblem(response: CheckedResponse<Json>, status: number, code: string): void {
  expect(response.status, JSON.stringify(response.body)).to.equal(status);
  expect(response.body.code).to.equal(code);
  expect(response.text, 'no SQL, file path or stack trace in the body').to.not.match(/SELECT |FROM |SQLITE_|\.sqlite|\/tmp\/|\n\s+at /);
}

describe('database faults', () => {
  let server: FaultServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('missing file: 503, then 200 once created', async () => {
    const path = join(await makeTempDir(), 'desktop.sqlite');
    server = await startFaultServer(path);

    const health = await request<Json>(server.baseUrl, '/api/health');
    expect(health.status, 'health does not need the database').to.equal(200);
    expectProblem(await login(server.baseUrl), 503, 'DATABASE_UNAVAILABLE');
    const token = server.tokens.issue(ALICE).token;
    expectProblem(await request<Json>(server.baseUrl, '/api/rooms', { token }), 503, 'DATABASE_UNAVAILABLE');

    await placeDemoDatabase(path);

    expect((await login(server.baseUrl)).status).to.equal(200);
    const rooms = await request<Json>(server.baseUrl, '/api/rooms', { token });
    expect(rooms.status).to.equal(200);
    expect(rooms.body.rooms.map((room: Json) => room.id)).to.include(DEMO_IDS.roomId);
  });

  const lockCases: Array<{ name: string; lock: (writer: sqlite3.Database) => Promise<void>; release: (writer: sqlite3.Database) => Promise<void>; lockBeforeFirstRead: boolean }> = [
    {
      // The desktop app's own mode: in WAL mode only exclusive locking mode keeps readers out, and it must be taken before they connect.
      name: 'a WAL writer in exclusive locking mode',
      lock: (writer) => exec(writer, "PRAGMA locking_mode = EXCLUSIVE; BEGIN; INSERT INTO meta (key, value) VALUES ('lock-test', '1'); COMMIT;"),
      release: (writer) => closeDatabase(writer),
      lockBeforeFirstRead: true,
    },
    {
      name: 'a rollback-journal writer inside BEGIN EXCLUSIVE',
      lock: (writer) => exec(writer, "BEGIN EXCLUSIVE; INSERT INTO meta (key, value) VALUES ('lock-test', '1');"),
      release: async (writer) => {
        await exec(writer, 'ROLLBACK');
        await closeDatabase(writer);
      },
      lockBeforeFirstRead: false,
    },
  ];

  for (const lockCase of lockCases) {
    it(`locked by ${lockCase.name}: DATABASE_BUSY, then 200`, async () => {
      const path = await copyDemoDatabase();
      let writer: sqlite3.Database | undefined = await openDatabase(path);
      try {
        if (!lockCase.lockBeforeFirstRead) await exec(writer, 'PRAGMA journal_mode = DELETE');
        server = await startFaultServer(path);
        const token = server.tokens.issue(ALICE).token;
        let before: CheckedResponse<Json> | undefined;
        if (!lockCase.lockBeforeFirstRead) {
          before = await request<Json>(server.baseUrl, '/api/rooms', { token });
          expect(before.status).to.equal(200);
        }

        await lockCase.lock(writer);
        const started = performance.now();
        const busy = await request<Json>(server.baseUrl, '/api/rooms', { token });
        const elapsedMs = performance.now() - started;
        expectProblem(busy, 503, 'DATABASE_BUSY');
        expect(elapsedMs, 'answered within the busy timeout plus margin').to.be.below(BUSY_ANSWER_BOUND_MS);
        expectProblem(await request<Json>(server.baseUrl, '/api/profile', { token }), 503, 'DATABASE_BUSY');

        await lockCase.release(writer);
        writer = undefined;

        const after = await request<Json>(server.baseUrl, '/api/rooms', { token });
        expect(after.status).to.equal(200);
        if (before) expect(after.body, 'same rooms as before the lock').to.deep.equal(before.body);
        expect((await request<Json>(server.baseUrl, '/api/profile', { token })).body.id).to.equal(DEMO_IDS.currentUserId);
      } finally {
        if (writer) await closeDatabase(writer);
      }
    });
  }

  const corruptFiles: Array<[string, (good: Buffer) => Buffer]> = [
    ['text that is not a database', () => Buffer.from('this is not a database\n'.repeat(500))],
    ['a file cut after 50 bytes', (good) => good.subarray(0, 50)],
    ['a file cut in half', (good) => good.subarray(0, Math.floor(good.length / 2))],
    ['zeroed pages after the first', (good) => Buffer.concat([good.subarray(0, 4096), Buffer.alloc(good.length - 4096)])],
    ['a wrong header string', (good) => Buffer.concat([Buffer.from('SQLite format 2\0'), good.subarray(16)])],
  ];

  for (const [name, corrupt] of corruptFiles) {
    it(`${name}: DATABASE_CORRUPT, then 200 once replaced`, async () => {
      const path = join(await makeTempDir(), 'desktop.sqlite');
      await writeFile(path, corrupt(await readFile(await demoDatabaseTemplate())));
      server = await startFaultServer(path);
      const token = server.tokens.issue(ALICE).token;

      expectProblem(await request<Json>(server.baseUrl, '/api/rooms', { token }), 503, 'DATABASE_CORRUPT');
      expectProblem(await login(server.baseUrl), 503, 'DATABASE_CORRUPT');

      await placeDemoDatabase(path);

      const rooms = await request<Json>(server.baseUrl, '/api/rooms', { token });
      expect(rooms.status).to.equal(200);
      expect(rooms.body.rooms.map((room: Json) => room.id)).to.include(DEMO_IDS.roomId);
    });
  }

  it('empty file: DATABASE_UNAVAILABLE', async () => {
    const path = join(await makeTempDir(), 'desktop.sqlite');
    await writeFile(path, '');
    server = await startFaultServer(path);
    const token = server.tokens.issue(ALICE).token;

    // SQLite reads an empty file as a valid database without tables, so it is missing data rather than corrupt.
    expectProblem(await request<Json>(server.baseUrl, '/api/rooms', { token }), 503, 'DATABASE_UNAVAILABLE');

    await placeDemoDatabase(path);
    expect((await request<Json>(server.baseUrl, '/api/rooms', { token })).status).to.equal(200);
  });

  it('file renamed over the open one: new content served', async () => {
    const path = await copyDemoDatabase();
    server = await startFaultServer(path);
    const token = (await login(server.baseUrl)).body.token as string;
    const before = await request<Json>(server.baseUrl, `/api/users/${DEMO_IDS.currentUserId}`, { token });
    expect(before.body.displayName).to.equal('Alice');

    const replacement = `${path}.next`;
    await copyFile(await demoDatabaseTemplate(), replacement);
    const writer = await openDatabase(replacement);
    try {
      await exec(writer, `UPDATE users SET display_name = 'Alice (replaced file)' WHERE id = '${DEMO_IDS.currentUserId}'; PRAGMA wal_checkpoint(TRUNCATE);`);
    } finally {
      await closeDatabase(writer);
    }
    await rename(replacement, path);

    const after = await request<Json>(server.baseUrl, `/api/users/${DEMO_IDS.currentUserId}`, { token });
    expect(after.status).to.equal(200);
    expect(after.body.displayName).to.equal('Alice (replaced file)');
    expect((await request<Json>(server.baseUrl, '/api/rooms', { token })).status, 'the token outlives the file').to.equal(200);
  });

  describe('read-only folder', () => {
    let child: ChildProcess | undefined;

    afterEach(() => {
      child?.kill('SIGKILL');
      child = undefined;
    });

    /**
     * Starts the server in a child process. Root ignores folder permissions,
     * so a root test run starts it under the `nobody` uid (65534).
     */
    async function startReadOnlyServer(databasePath: string, scriptFolder: string): Promise<{ baseUrl: string; token: string; uid: number }> {
      const script = join(scriptFolder, 'read-only-server.mjs');
      await writeFile(script, READ_ONLY_SERVER_SCRIPT);
      await chmod(script, 0o644);
      const runAsNobody = process.getuid?.() === 0;
      const started = spawn(process.execPath, [script, databasePath], {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(runAsNobody ? { uid: 65534, gid: 65534 } : {}),
      });
      child = started;
      const stderr: string[] = [];
      started.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
      return new Promise((resolve, reject) => {
        // The line listener keeps reading stdout after the ready line, so the child's log lines never fill the pipe.
        createInterface({ input: started.stdout! }).on('line', (line) => {
          if (!line.startsWith('{"ready"')) return;
          const ready = JSON.parse(line) as { ready: { port: number; token: string; uid: number } };
          resolve({ baseUrl: `http://127.0.0.1:${ready.ready.port}`, token: ready.ready.token, uid: ready.ready.uid });
        });
        started.once('exit', (code) => reject(new Error(`The read-only test server exited with ${code} before it listened: ${stderr.join('')}`)));
      });
    }

    it('without a -shm file: DATABASE_UNAVAILABLE naming -shm, then 200 when writable', async () => {
      const outer = await makeTempDir();
      await chmod(outer, 0o755);
      const folder = join(outer, 'read-only');
      await makeFolder(folder);
      const path = join(folder, 'desktop.sqlite');
      await copyFile(await demoDatabaseTemplate(), path);
      await chmod(path, 0o444);
      await chmod(folder, 0o555);
      try {
        const { baseUrl, token, uid } = await startReadOnlyServer(path, outer);
        expect(uid, 'root would ignore the folder permissions').to.not.equal(0);

        const failed = await request<Json>(baseUrl, '/api/rooms', { token });
        expectProblem(failed, 503, 'DATABASE_UNAVAILABLE');
        expect(failed.body.detail).to.include('-shm');

        // Any user may now create the -shm and -wal files, as the desktop app does when it runs.
        await chmod(folder, 0o777);
        const recovered = await request<Json>(baseUrl, '/api/rooms', { token });
        expect(recovered.status).to.equal(200);
        expect(recovered.body.rooms.map((room: Json) => room.id)).to.include(DEMO_IDS.roomId);
      } finally {
        await chmod(folder, 0o755);
      }
    });

    it('with the -shm file the desktop app left: 200', async () => {
      const outer = await makeTempDir();
      await chmod(outer, 0o755);
      const folder = join(outer, 'read-only');
      await makeFolder(folder);
      const path = join(folder, 'desktop.sqlite');
      await copyFile(await demoDatabaseTemplate(), path);
      // A connection of the desktop app creates -shm and -wal, and keeps them while it stays open.
      const desktopApp = await openDatabase(path);
      try {
        await exec(desktopApp, 'SELECT count(*) FROM users');
        await chmod(path, 0o444);
        await chmod(folder, 0o555);
        const { baseUrl, token } = await startReadOnlyServer(path, outer);

        const rooms = await request<Json>(baseUrl, '/api/rooms', { token });
        expect(rooms.status).to.equal(200);
        expect(rooms.body.rooms.map((room: Json) => room.id)).to.include(DEMO_IDS.roomId);
      } finally {
        await closeDatabase(desktopApp);
        await chmod(folder, 0o755);
      }
    });
  });
});

async function makeFolder(path: string): Promise<void> {
  await mkdir(path);
  await chmod(path, 0o755);
}

const DIST_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Child server for the read-only folder tests: the real app and database
 * class from dist/, a token issued straight from its store because login
 * itself reads the database, and one `{"ready":...}` line on stdout.
 */
const READ_ONLY_SERVER_SCRIPT = `
import { createServer } from 'node:http';
const dist = ${JSON.stringify(DIST_ROOT)};
const { createApp } = await import(dist + 'sidecar/app.js');
const { TokenStore } = await import(dist + 'sidecar/auth/tokens.js');
const { DesktopDatabase } = await import(dist + 'sidecar/database.js');
const settings = { port: 0, exposeOnLan: false, allowedOrigins: [], allowedServers: [], scalarDocs: false, docusaurusDocs: false };
const database = new DesktopDatabase({ path: process.argv[2], identityCheckIntervalMs: 0, reopenDelayMs: 0 });
const tokens = new TokenStore();
const { app } = createApp({ database, settings: () => settings, tokens });
const server = createServer(app.callback());
server.listen(0, '127.0.0.1', () => {
  settings.port = server.address().port;
  const { token } = tokens.issue({ userId: ${JSON.stringify(DEMO_IDS.currentUserId)}, username: 'alice', displayName: 'Alice', serverUrl: 'https://signal.test' });
  console.log(JSON.stringify({ ready: { port: settings.port, token, uid: process.getuid() } }));
});
`;

// Login, tokens and logout of the sidecar app, with the signaling check faked or served by a loopback stand-in.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { expect } from 'chai';
import sinon from 'sinon';

import { TOKEN_LIFETIME_MS, TokenStore } from '../../sidecar/auth/tokens.js';
import { copyDemoDatabase } from '../helpers/fixture-db.js';
import { DEMO_PASSWORD, DEMO_SERVER_URL, startTestServer, type TestServer } from '../helpers/api-server.js';
import { request } from '../helpers/openapi-check.js';

type Json = Record<string, any>;

const LOGIN = { username: 'alice', password: DEMO_PASSWORD, serverUrl: DEMO_SERVER_URL };

describe('authentication', () => {
  let server: TestServer;
  let now: number;

  beforeEach(async () => {
    now = 1_800_000_000_000;
    server = await startTestServer(await copyDemoDatabase(), { now: () => now });
  });

  afterEach(async () => {
    await server.close();
  });

  function login(body: unknown, headers: Record<string, string> = {}) {
    return request<Json>(server.baseUrl, '/api/auth/login', { method: 'POST', body, headers });
  }

  describe('POST /api/auth/login', () => {
    it('issues a local_ token that expires in one hour', async () => {
      const response = await login(LOGIN);
      expect(response.status).to.equal(200);
      expect(response.body.token).to.match(/^local_[A-Za-z0-9_-]{43}$/);
      expect(response.body.expiresAt).to.equal(now + TOKEN_LIFETIME_MS);
      expect(response.body.user).to.deep.equal({ id: 'user-alice-01', username: 'alice', displayName: 'Alice' });
    });

    it('issues a different token each time', async () => {
      const first = await login(LOGIN);
      const second = await login(LOGIN);
      expect(first.body.token).to.not.equal(second.body.token);
    });

    it('matches the server URL after normalization', async () => {
      const response = await login({ ...LOGIN, serverUrl: 'HTTPS://Signal.TEST:443/' });
      expect(response.status).to.equal(200);
    });

    it('rejects a missing field with INVALID_REQUEST', async () => {
      for (const field of ['username', 'password', 'serverUrl']) {
        const body: Json = { ...LOGIN };
        delete body[field];
        const response = await login(body);
        expect(response.status, field).to.equal(400);
        expect(response.body.code).to.equal('INVALID_REQUEST');
        expect(response.body.detail).to.include(field);
      }
    });

    it('rejects wrong types and non-object bodies', async () => {
      for (const body of [{ ...LOGIN, username: 42 }, { ...LOGIN, password: null }, [LOGIN], 'alice']) {
        const response = await login(body);
        expect(response.status, JSON.stringify(body)).to.equal(400);
        expect(response.body.code).to.equal('INVALID_REQUEST');
      }
    });

    it('rejects invalid JSON with INVALID_REQUEST', async () => {
      const response = await request<Json>(server.baseUrl, '/api/auth/login', {
        method: 'POST',
        rawBody: '{"username": ',
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).to.equal(400);
      expect(response.body.code).to.equal('INVALID_REQUEST');
      expect(response.body.detail).to.equal('The request body is not valid JSON.');
    });

    it('answers NO_ALLOWED_SERVERS when the allow-list is empty', async () => {
      server.settings.allowedServers = [];
      const response = await login(LOGIN);
      expect(response.status).to.equal(403);
      expect(response.body.code).to.equal('NO_ALLOWED_SERVERS');
    });

    it('answers SERVER_NOT_ALLOWED for another server', async () => {
      for (const serverUrl of ['https://evil.test', 'https://signal.test.evil.test', 'https://signal.test/other', 'http://signal.test']) {
        const response = await login({ ...LOGIN, serverUrl });
        expect(response.status, serverUrl).to.equal(403);
        expect(response.body.code).to.equal('SERVER_NOT_ALLOWED');
      }
    });

    it('answers INVALID_REQUEST for a server URL that is not a URL', async () => {
      const response = await login({ ...LOGIN, serverUrl: 'not a url' });
      expect(response.status).to.equal(400);
    });

    it('answers INVALID_CREDENTIALS for a wrong password', async () => {
      const response = await login({ ...LOGIN, password: 'wrong' });
      expect(response.status).to.equal(401);
      expect(response.body.code).to.equal('INVALID_CREDENTIALS');
    });

    it('refuses an account that is not the desktop user', async () => {
      const response = await login({ ...LOGIN, username: 'muse', password: 'hunter2 hunter2' });
      expect(response.status).to.equal(403);
      expect(response.body.code).to.equal('NOT_LOCAL_USER');
      expect(server.tokens.size).to.equal(0);
    });

    it('answers 415 for a body that is not JSON', async () => {
      const response = await request<Json>(server.baseUrl, '/api/auth/login', {
        method: 'POST',
        rawBody: 'username=alice',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(response.status).to.equal(415);
      expect(response.body.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 413 for a body over 8 KiB', async () => {
      const response = await login({ ...LOGIN, password: 'x'.repeat(9000) });
      expect(response.status).to.equal(413);
      expect(response.body.code).to.equal('PAYLOAD_TOO_LARGE');
    });
  });

  describe('bearer tokens', () => {
    it('opens protected routes', async () => {
      const token = await server.login();
      const response = await request<Json>(server.baseUrl, '/api/profile', { token });
      expect(response.status).to.equal(200);
    });

    it('sends an RFC 6750 challenge without a token', async () => {
      const response = await request<Json>(server.baseUrl, '/api/rooms');
      expect(response.status).to.equal(401);
      expect(response.headers.get('www-authenticate')).to.match(/^Bearer realm=/);
    });

    it('answers 401 INVALID_TOKEN for malformed and unknown tokens', async () => {
      const token = await server.login();
      const cases = ['local_', 'local_short', `${token}x`, token.slice(0, -1), 'x'.repeat(5000), `local_${'A'.repeat(43)}`];
      for (const candidate of cases) {
        const response = await request<Json>(server.baseUrl, '/api/rooms', { token: candidate });
        expect(response.status, candidate.slice(0, 20)).to.equal(401);
        expect(response.body.code).to.equal('INVALID_TOKEN');
        expect(response.headers.get('www-authenticate')).to.include('error="invalid_token"');
      }
    });

    it('rejects other authorization schemes', async () => {
      const token = await server.login();
      const response = await request<Json>(server.baseUrl, '/api/rooms', { headers: { authorization: `Basic ${token}` } });
      expect(response.status).to.equal(401);
      expect(response.body.code).to.equal('AUTH_REQUIRED');
    });

    it('ignores a token in the query string', async () => {
      const token = await server.login();
      const response = await request<Json>(server.baseUrl, `/api/rooms?access_token=${token}`);
      expect(response.status).to.equal(401);
      expect(response.body.code).to.equal('AUTH_REQUIRED');
    });

    it('expires after one hour', async () => {
      const token = await server.login();
      now += TOKEN_LIFETIME_MS - 1;
      expect((await request<Json>(server.baseUrl, '/api/profile', { token })).status).to.equal(200);
      now += 1;
      const response = await request<Json>(server.baseUrl, '/api/profile', { token });
      expect(response.status).to.equal(401);
      expect(response.body.code).to.equal('INVALID_TOKEN');
    });
  });

  describe('POST /api/auth/logout', () => {
    it('revokes the current token only', async () => {
      const first = await server.login();
      const second = await server.login();
      const logout = await request<Json>(server.baseUrl, '/api/auth/logout', { method: 'POST', token: first });
      expect(logout.status).to.equal(204);
      expect((await request<Json>(server.baseUrl, '/api/profile', { token: first })).status).to.equal(401);
      expect((await request<Json>(server.baseUrl, '/api/profile', { token: second })).status).to.equal(200);
    });

    it('requires a token', async () => {
      const response = await request<Json>(server.baseUrl, '/api/auth/logout', { method: 'POST' });
      expect(response.status).to.equal(401);
    });
  });
});

describe('TokenStore', () => {
  it('keeps only SHA-256 digests of tokens', () => {
    const store = new TokenStore();
    const { token } = store.issue({ userId: 'u', username: 'u', displayName: 'U', serverUrl: 'https://s.test' });
    const internal = (store as unknown as { tokens: Map<string, unknown> }).tokens;
    expect([...internal.keys()]).to.deep.equal([...internal.keys()].filter((key) => /^[0-9a-f]{64}$/.test(key)));
    expect(JSON.stringify([...internal])).to.not.include(token);
  });

  it('caps the number of live tokens', () => {
    const store = new TokenStore(Date.now, 2);
    const owner = { userId: 'u', username: 'u', displayName: 'U', serverUrl: 'https://s.test' };
    store.issue(owner);
    store.issue(owner);
    expect(() => store.issue(owner)).to.throw(/At most 2 tokens/);
  });

  it('revokes tokens of removed servers', () => {
    const store = new TokenStore();
    const retained = store.issue({ userId: 'u', username: 'u', displayName: 'U', serverUrl: 'https://a.test' });
    const dropped = store.issue({ userId: 'u', username: 'u', displayName: 'U', serverUrl: 'https://b.test' });
    expect(store.revokeServersNotIn(['https://a.test'])).to.equal(1);
    expect(store.verify(retained.token)).to.not.equal(undefined);
    expect(store.verify(dropped.token)).to.equal(undefined);
  });
});

describe('signaling login check over HTTP', () => {
  let signaling: Server;
  let signalingUrl: string;
  let behaviour: (response: import('node:http').ServerResponse) => void;
  let server: TestServer;

  before(async () => {
    signaling = createServer((req, res) => {
      req.resume();
      behaviour(res);
    });
    await new Promise<void>((resolve) => signaling.listen(0, '127.0.0.1', resolve));
    signalingUrl = `http://127.0.0.1:${(signaling.address() as AddressInfo).port}`;
  });

  after(async () => {
    signaling.closeAllConnections();
    await new Promise<void>((resolve) => signaling.close(() => resolve()));
  });

  beforeEach(async () => {
    server = await startTestServer(await copyDemoDatabase(), {
      verify: undefined,
      signaling: { timeoutMs: 300, maxResponseBytes: 4096 },
      settings: { allowedServers: [] },
    });
    server.settings.allowedServers = [signalingUrl];
  });

  afterEach(async () => {
    await server.close();
  });

  function login() {
    return request<Json>(server.baseUrl, '/api/auth/login', { method: 'POST', body: { ...LOGIN, serverUrl: signalingUrl } });
  }

  const upstreamFaults: Array<[string, (response: import('node:http').ServerResponse) => void]> = [
    ['a redirect', (res) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end()],
    ['a server error', (res) => res.writeHead(500).end()],
    ['invalid JSON', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"user":')],
    ['JSON without a user', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')],
    ['a body over the size cap', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(`{"user":{"id":"${'x'.repeat(10_000)}"}}`)],
    ['no answer within the timeout', () => undefined],
  ];

  for (const [name, fault] of upstreamFaults) {
    it(`answers 502 UPSTREAM_UNREACHABLE for ${name}`, async () => {
      behaviour = fault;
      const response = await login();
      expect(response.status).to.equal(502);
      expect(response.body.code).to.equal('UPSTREAM_UNREACHABLE');
    });
  }

  it('answers 401 when the server rejects the credentials', async () => {
    behaviour = (res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"INVALID_CREDENTIALS"}');
    const response = await login();
    expect(response.status).to.equal(401);
    expect(response.body.code).to.equal('INVALID_CREDENTIALS');
  });

  it('issues a token when the server accepts', async () => {
    behaviour = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"user":{"id":"user-alice-01","username":"alice","displayName":"Alice"}}');
    const response = await login();
    expect(response.status).to.equal(200);
  });

  it('answers 502 when the server is not listening', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    server.settings.allowedServers = [url];
    const response = await request<Json>(server.baseUrl, '/api/auth/login', { method: 'POST', body: { ...LOGIN, serverUrl: url } });
    expect(response.status).to.equal(502);
  });

  it('throttles failed logins before asking the server', async () => {
    const signalingCalls = sinon.spy();
    behaviour = (res) => {
      signalingCalls();
      res.writeHead(401).end();
    };
    for (let attempt = 0; attempt < 10; attempt += 1) expect((await login()).status).to.equal(401);
    const throttled = await login();
    expect(throttled.status).to.equal(429);
    expect(throttled.body.code).to.equal('RATE_LIMITED');
    expect(Number(throttled.headers.get('retry-after'))).to.be.greaterThan(0);
    expect(signalingCalls.callCount).to.equal(10);
  });
});

// Guards against web pages and abusive clients: Host allow-list, Origin and CORS, login media type and size, throttling, token rules and socket timeouts.

import { request as httpRequest } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';

import { expect } from 'chai';

import { DEMO_IDS } from '../../fixtures/generate.js';
import { createApp, type AppOptions, type AppSettings } from '../../sidecar/app.js';
import type { LoginThrottleOptions } from '../../sidecar/auth/login.js';
import { TokenStore } from '../../sidecar/auth/tokens.js';
import { DesktopDatabase } from '../../sidecar/database.js';
import { lanHostLiterals } from '../../sidecar/guards.js';
import { BindError, Listeners, type ServerTimeouts } from '../../sidecar/server.js';
import { DEMO_PASSWORD, DEMO_SERVER_URL, fakeVerify } from '../helpers/api-server.js';
import { copyDemoDatabase } from '../helpers/fixture-db.js';
import { expectDocumentedResponse, request, type CheckedResponse } from '../helpers/openapi-check.js';

type Json = Record<string, any>;

const LOGIN = { username: 'alice', password: DEMO_PASSWORD, serverUrl: DEMO_SERVER_URL };
const ALLOWED_ORIGIN = 'http://localhost:3000';

interface GuardedServer {
  port: number;
  /** Addresses the listeners bound, such as 127.0.0.1 and ::1. */
  addresses: string[];
  baseUrl: string;
  settings: AppSettings;
  tokens: TokenStore;
  /** Number of times the signaling login check ran. */
  verifyCalls(): number;
  close(): Promise<void>;
}

interface GuardedServerOptions {
  settings?: Partial<AppSettings>;
  tokens?: TokenStore;
  throttle?: LoginThrottleOptions;
  timeouts?: Partial<ServerTimeouts>;
}

/** Returns a port that was free on 127.0.0.1 a moment ago; bind() retries when another process takes it first. */
async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Runs the app behind the sidecar's own Listeners (loopback IPv4 and IPv6,
 * no requireHostHeader, the production timeouts unless overridden), because
 * the guards depend on that server setup.
 */
async function startGuardedServer(options: GuardedServerOptions = {}): Promise<GuardedServer> {
  const settings: AppSettings = {
    port: 0,
    exposeOnLan: false,
    allowedOrigins: [],
    allowedServers: [DEMO_SERVER_URL],
    scalarDocs: false,
    docusaurusDocs: false,
    ...options.settings,
  };
  const database = new DesktopDatabase({ path: await copyDemoDatabase() });
  let calls = 0;
  const verify: NonNullable<AppOptions['verify']> = (serverUrl, credentials) => {
    calls += 1;
    return fakeVerify(serverUrl, credentials);
  };
  const { app, tokens } = createApp({ database, settings: () => settings, verify, tokens: options.tokens, throttle: options.throttle });
  const listeners = new Listeners(app.callback(), options.timeouts);

  let addresses: string[] | undefined;
  for (let attempt = 1; addresses === undefined; attempt += 1) {
    settings.port = await freePort();
    try {
      addresses = await listeners.bind({ port: settings.port, exposeOnLan: false });
    } catch (error) {
      if (!(error instanceof BindError && error.reason === 'PORT_IN_USE') || attempt >= 5) throw error;
    }
  }

  return {
    port: settings.port,
    addresses,
    baseUrl: `http://127.0.0.1:${settings.port}`,
    settings,
    tokens,
    verifyCalls: () => calls,
    async close() {
      await listeners.closeAll();
      await database.close();
    },
  };
}

interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  body: Json;
}

/** Parses an HTTP/1.1 response that ends when the server closes the connection. */
function parseRawResponse(raw: string): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const text = split === -1 ? '' : raw.slice(split + 4);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const body = text !== '' && (headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as Json) : {};
  return { status, headers, text, body };
}

/** Sends raw request bytes to 127.0.0.1 and resolves with the response once the server closes the socket. */
function sendRaw(port: number, requestText: string, host = '127.0.0.1'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseRawResponse(Buffer.concat(chunks).toString('utf8'))));
    socket.end(requestText);
  });
}

function getWithHostLines(port: number, hostLines: string[], path = '/api/health'): Promise<RawResponse> {
  const headers = hostLines.map((value) => `Host: ${value}\r\n`).join('');
  return sendRaw(port, `GET ${path} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`);
}

interface NodeRequestOptions {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** Loopback address to connect to: 127.0.0.1 or ::1. */
  host?: string;
  /** Source address of the connection, so one machine can act as several clients. */
  localAddress?: string;
}

/** Sends a request with node:http, which, unlike fetch, lets a test choose the source address and the Host header. */
function nodeRequest(port: number, options: NodeRequestOptions): Promise<CheckedResponse<Json>> {
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host,
        port,
        method: options.method ?? 'GET',
        path: options.path,
        localAddress: options.localAddress,
        headers: { connection: 'close', host: `${host.includes(':') ? `[${host}]` : host}:${port}`, ...options.headers },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          const body = text !== '' && (headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as Json) : {};
          resolve({ status: incoming.statusCode ?? 0, headers, text, body });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

function accessControlHeaders(headers: Headers): string[] {
  return [...headers.keys()].filter((name) => name.startsWith('access-control-'));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function expectHealthy(server: GuardedServer): Promise<void> {
  const health = await request<Json>(server.baseUrl, '/api/health');
  expect(health.status, 'a follow-up request succeeds').to.equal(200);
  expect(health.body.status).to.equal('ok');
}

describe('browser pages', () => {
  let server: GuardedServer;

  beforeEach(async () => {
    server = await startGuardedServer();
  });

  afterEach(async () => {
    await server.close();
  });

  describe('Host allow-list', () => {
    it('accepts loopback names with the own port', async () => {
      const port = server.port;
      const accepted = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`, `LocalHost:${port}`];
      for (const host of accepted) {
        const response = await getWithHostLines(port, [host]);
        expect(response.status, host).to.equal(200);
        expectDocumentedResponse('GET', '/api/health', response);
      }
    });

    it('rejects foreign and ambiguous Host values', async () => {
      const port = server.port;
      const rejected: Array<[string, string[]]> = [
        ['a foreign name', ['evil.test']],
        ['a foreign name with the port', [`evil.test:${port}`]],
        ['localhost as a subdomain', [`localhost.evil.test:${port}`]],
        ['localhost as a domain label', [`localhost.com:${port}`]],
        ['a missing Host', []],
        ['an empty Host', ['']],
        ['a trailing dot', [`localhost.:${port}`]],
        ['another port', [`localhost:${port + 1}`]],
        ['no port', ['localhost']],
        ['no port on 127.0.0.1', ['127.0.0.1']],
        ['a port with a leading zero', [`127.0.0.1:0${port}`]],
        ['127.0.0.2', [`127.0.0.2:${port}`]],
        ['short IPv4 form', [`127.1:${port}`]],
        ['decimal IPv4 form', [`2130706433:${port}`]],
        ['0.0.0.0', [`0.0.0.0:${port}`]],
        ['IPv4-mapped IPv6', [`[::ffff:127.0.0.1]:${port}`]],
        ['long IPv6 loopback', [`[0:0:0:0:0:0:0:1]:${port}`]],
        ['user info', [`user@localhost:${port}`]],
        ['an own Host then a foreign one', [`127.0.0.1:${port}`, 'evil.test']],
        ['a foreign Host then an own one', ['evil.test', `127.0.0.1:${port}`]],
        ['the own Host twice', [`127.0.0.1:${port}`, `127.0.0.1:${port}`]],
      ];
      for (const [name, hostLines] of rejected) {
        const response = await getWithHostLines(port, hostLines);
        expect(response.status, name).to.equal(421);
        expect(response.body.code, name).to.equal('HOST_NOT_ALLOWED');
        expectDocumentedResponse('GET', '/api/health', response);
      }
      await expectHealthy(server);
    });

    it('guards protected and unknown routes too', async () => {
      const token = await loginToken(server);
      for (const path of ['/api/rooms', `/api/rooms/${DEMO_IDS.roomId}`, '/api/no-such-route', '/docs']) {
        const raw = `GET ${path} HTTP/1.1\r\nHost: evil.test:${server.port}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;
        const response = await sendRaw(server.port, raw);
        expect(response.status, path).to.equal(421);
        expect(response.body.code, path).to.equal('HOST_NOT_ALLOWED');
      }
    });

    it('adds LAN literals only in LAN mode', async () => {
      const literals = lanHostLiterals();
      for (const literal of literals) {
        const offResponse = await getWithHostLines(server.port, [`${literal}:${server.port}`]);
        expect(offResponse.status, `${literal} with LAN off`).to.equal(421);
      }

      server.settings.exposeOnLan = true;
      for (const literal of literals) {
        const onResponse = await getWithHostLines(server.port, [`${literal}:${server.port}`]);
        expect(onResponse.status, `${literal} with LAN on`).to.equal(200);
        expect(onResponse.body.exposeOnLan).to.equal(true);
      }
      expect(literals.some((literal) => literal.startsWith('[fe80:')), 'link-local addresses are never listed').to.equal(false);
      const foreign = await getWithHostLines(server.port, [`evil.test:${server.port}`]);
      expect(foreign.status, 'foreign names stay rejected in LAN mode').to.equal(421);
    });
  });

  describe('Origin and CORS', () => {
    it('sends no CORS headers by default', async () => {
      const token = await loginToken(server);
      for (const path of ['/api/health', '/api/rooms']) {
        const response = await request<Json>(server.baseUrl, path, { token });
        expect(accessControlHeaders(response.headers), path).to.deep.equal([]);
      }
      const unknownRoute = await fetch(`${server.baseUrl}/api/no-such-route`);
      expect(unknownRoute.status).to.equal(404);
      expect(accessControlHeaders(unknownRoute.headers), 'unknown route').to.deep.equal([]);
    });

    it('rejects foreign origins on GET, login and preflight', async () => {
      server.settings.allowedOrigins = [ALLOWED_ORIGIN];
      const foreignOrigins = [
        'http://evil.test',
        'null',
        'http://localhost:3001',
        'http://localhost:30000',
        'http://localhost:3000.evil.test',
        'https://localhost:3000',
        `http://127.0.0.1:${server.port + 1}`,
        `https://127.0.0.1:${server.port}`,
      ];
      for (const origin of foreignOrigins) {
        const get = await request<Json>(server.baseUrl, '/api/health', { headers: { origin } });
        const login = await request<Json>(server.baseUrl, '/api/auth/login', { method: 'POST', body: LOGIN, headers: { origin } });
        const preflight = await fetch(`${server.baseUrl}/api/auth/login`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
        });
        const preflightBody = (await preflight.json()) as Json;

        for (const [name, status, code, headers] of [
          ['GET', get.status, get.body.code, get.headers],
          ['login', login.status, login.body.code, login.headers],
          ['preflight', preflight.status, preflightBody.code, preflight.headers],
        ] as const) {
          expect(status, `${name} from ${origin}`).to.equal(403);
          expect(code, `${name} from ${origin}`).to.equal('ORIGIN_NOT_ALLOWED');
          expect(accessControlHeaders(headers), `${name} from ${origin}`).to.deep.equal([]);
        }
      }
      expect(server.verifyCalls(), 'a rejected origin never reaches the signaling check').to.equal(0);
      expect(server.tokens.size).to.equal(0);
    });

    it('lets the own origin through without CORS headers', async () => {
      const response = await request<Json>(server.baseUrl, '/api/health', { headers: { origin: server.baseUrl } });
      expect(response.status).to.equal(200);
      expect(accessControlHeaders(response.headers)).to.deep.equal([]);
    });

    it('gives an allowed origin exact CORS headers', async () => {
      server.settings.allowedOrigins = [ALLOWED_ORIGIN];
      const headers = { origin: ALLOWED_ORIGIN };

      const preflight = await fetch(`${server.baseUrl}/api/rooms`, {
        method: 'OPTIONS',
        headers: { ...headers, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
      expect(preflight.status).to.equal(204);
      expect(preflight.headers.get('access-control-allow-origin')).to.equal(ALLOWED_ORIGIN);
      expect(preflight.headers.get('access-control-allow-methods')).to.include('GET');
      expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).to.include('authorization');
      expect(preflight.headers.get('vary')).to.include('Origin');
      expect(preflight.headers.get('access-control-allow-credentials')).to.equal(null);

      const login = await request<Json>(server.baseUrl, '/api/auth/login', { method: 'POST', body: LOGIN, headers });
      expect(login.status).to.equal(200);
      expect(login.headers.get('access-control-allow-origin')).to.equal(ALLOWED_ORIGIN);

      const rooms = await request<Json>(server.baseUrl, '/api/rooms', { token: login.body.token as string, headers });
      expect(rooms.status).to.equal(200);
      expect(rooms.headers.get('access-control-allow-origin')).to.equal(ALLOWED_ORIGIN);
      expect(rooms.headers.get('vary')).to.include('Origin');

      const other = await request<Json>(server.baseUrl, '/api/health', { headers: { origin: 'http://localhost:3001' } });
      expect(other.headers.get('access-control-allow-origin'), 'never reflected for another origin').to.equal(null);
    });
  });

  describe('response headers', () => {
    it('protect API successes and errors', async () => {
      const token = await loginToken(server);
      const responses: Array<[string, Headers]> = [
        ['health', (await request<Json>(server.baseUrl, '/api/health')).headers],
        ['rooms', (await request<Json>(server.baseUrl, '/api/rooms', { token })).headers],
        ['missing token', (await request<Json>(server.baseUrl, '/api/rooms')).headers],
        ['unknown room', (await request<Json>(server.baseUrl, '/api/rooms/room-missing', { token })).headers],
        ['foreign origin', (await request<Json>(server.baseUrl, '/api/health', { headers: { origin: 'http://evil.test' } })).headers],
        ['foreign Host', (await getWithHostLines(server.port, ['evil.test'])).headers],
        ['unknown route', (await fetch(`${server.baseUrl}/no-such-page`)).headers],
      ];
      for (const [name, headers] of responses) {
        expect(headers.get('x-content-type-options'), name).to.equal('nosniff');
        expect(headers.get('cache-control'), name).to.equal('no-store');
        expect(headers.get('content-security-policy'), name).to.equal("default-src 'none'; frame-ancestors 'none'");
        expect(headers.get('cross-origin-resource-policy'), name).to.equal('same-origin');
      }
    });
  });

  describe('login media type and size', () => {
    it('rejects bodies that are not application/json', async () => {
      const rejected = [
        'text/plain',
        'text/plain; charset=utf-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/jsonx',
        'application/json-patch+json',
        'application/problem+json',
        'application/*',
        '*/*',
        'application/json, text/plain',
      ];
      for (const contentType of rejected) {
        const response = await request<Json>(server.baseUrl, '/api/auth/login', {
          method: 'POST',
          rawBody: JSON.stringify(LOGIN),
          headers: { 'content-type': contentType },
        });
        expect(response.status, contentType).to.equal(415);
        expect(response.body.code, contentType).to.equal('UNSUPPORTED_MEDIA_TYPE');
      }
      const missing = await nodeRequest(server.port, { method: 'POST', path: '/api/auth/login', body: JSON.stringify(LOGIN) });
      expect(missing.status, 'no Content-Type').to.equal(415);
      expect(server.verifyCalls()).to.equal(0);
    });

    it('compares application/json as a media type', async () => {
      const accepted = ['application/json', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'Application/JSON'];
      for (const contentType of accepted) {
        const response = await request<Json>(server.baseUrl, '/api/auth/login', {
          method: 'POST',
          rawBody: JSON.stringify(LOGIN),
          headers: { 'content-type': contentType },
        });
        expect(response.status, contentType).to.equal(200);
      }
    });

    it('rejects a body over 8 KiB with 413', async () => {
      const atLimit = JSON.stringify({ ...LOGIN, password: 'p'.repeat(8192 - JSON.stringify({ ...LOGIN, password: '' }).length) });
      expect(Buffer.byteLength(atLimit)).to.equal(8192);
      const accepted = await request<Json>(server.baseUrl, '/api/auth/login', { method: 'POST', rawBody: atLimit, headers: { 'content-type': 'application/json' } });
      expect(accepted.status, '8192 bytes is read, then the password length fails validation').to.equal(400);

      const overLimit = `${atLimit} `;
      const tooLarge = await request<Json>(server.baseUrl, '/api/auth/login', { method: 'POST', rawBody: overLimit, headers: { 'content-type': 'application/json' } });
      expect(tooLarge.status).to.equal(413);
      expect(tooLarge.body.code).to.equal('PAYLOAD_TOO_LARGE');
      expect(server.verifyCalls()).to.equal(0);
    });

    it('rejects a chunked body over 8 KiB with 413', async () => {
      const body = JSON.stringify({ ...LOGIN, password: 'p'.repeat(9000) });
      const response = await nodeRequest(server.port, {
        method: 'POST',
        path: '/api/auth/login',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        body,
      });
      expect(response.status).to.equal(413);
      expect(response.body.code).to.equal('PAYLOAD_TOO_LARGE');
    });

    it('rejects a huge declared length at once', async () => {
      const head =
        `POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\n` +
        'Content-Length: 104857600\r\nConnection: close\r\n\r\n{"username":';
      const response = await new Promise<RawResponse>((resolve, reject) => {
        const socket = connect({ port: server.port, host: '127.0.0.1' });
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          // The response arrived while 100 MB of body were still due, so the server did not wait for them.
          if (Buffer.concat(chunks).includes('\r\n\r\n{')) socket.destroy();
        });
        socket.on('error', reject);
        socket.on('close', () => resolve(parseRawResponse(Buffer.concat(chunks).toString('utf8'))));
        socket.write(head);
      });
      expect(response.status).to.equal(413);
      await expectHealthy(server);
    });
  });
});

async function loginToken(server: GuardedServer): Promise<string> {
  const response = await request<Json>(server.baseUrl, '/api/auth/login', { method: 'POST', body: LOGIN });
  expect(response.status, JSON.stringify(response.body)).to.equal(200);
  return response.body.token as string;
}

describe('abuse', () => {
  let server: GuardedServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('throttles failed logins globally across clients', async () => {
    server = await startGuardedServer({ throttle: { perClientFailures: 3, globalFailures: 5, windowSeconds: 1 } });
    const port = server.port;
    // A second client needs another source address: ::1 when it is bound, else 127.0.0.2, which Linux routes over loopback.
    const second: Pick<NodeRequestOptions, 'host' | 'localAddress'> = server.addresses.includes('::1') ? { host: '::1' } : { localAddress: '127.0.0.2' };
    const attempt = (client: Pick<NodeRequestOptions, 'host' | 'localAddress'>, password: string) =>
      nodeRequest(port, {
        ...client,
        method: 'POST',
        path: '/api/auth/login',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...LOGIN, password }),
      });

    for (let failure = 1; failure <= 3; failure += 1) {
      expect((await attempt({}, `wrong-${failure}`)).status, `first client failure ${failure}`).to.equal(401);
    }
    const firstThrottled = await attempt({}, 'wrong-4');
    expect(firstThrottled.status, 'the first client hit its own limit').to.equal(429);

    for (let failure = 1; failure <= 2; failure += 1) {
      expect((await attempt(second, `wrong-${failure}`)).status, `second client failure ${failure}`).to.equal(401);
    }
    const globallyThrottled = await attempt(second, DEMO_PASSWORD);
    expectDocumentedResponse('POST', '/api/auth/login', globallyThrottled);
    expect(globallyThrottled.status, 'the right password is throttled too once the global limit is used').to.equal(429);
    expect(globallyThrottled.body.code).to.equal('RATE_LIMITED');
    const retryAfter = Number(globallyThrottled.headers.get('retry-after'));
    expect(retryAfter, 'Retry-After of a 1 s window').to.equal(1);
    expect(server.verifyCalls(), 'throttled logins never reach the signaling check').to.equal(5);

    await delay(retryAfter * 1000 + 100);
    const recovered = await attempt(second, DEMO_PASSWORD);
    expect(recovered.status, 'logins work again after Retry-After').to.equal(200);
  });

  it('caps live tokens with TOO_MANY_TOKENS', async () => {
    server = await startGuardedServer({ tokens: new TokenStore(Date.now, 3) });
    const tokens = [await loginToken(server), await loginToken(server), await loginToken(server)];

    for (let attempt = 0; attempt < 3; attempt += 1) {
      const capped = await request<Json>(server.baseUrl, '/api/auth/login', { method: 'POST', body: LOGIN });
      expect(capped.status).to.equal(429);
      expect(capped.body.code).to.equal('TOO_MANY_TOKENS');
    }
    for (const token of tokens) {
      expect((await request<Json>(server.baseUrl, '/api/profile', { token })).status, 'issued tokens still work').to.equal(200);
    }

    const logout = await request<Json>(server.baseUrl, '/api/auth/logout', { method: 'POST', token: tokens[0] });
    expect(logout.status).to.equal(204);
    const next = await request<Json>(server.baseUrl, '/api/auth/login', { method: 'POST', body: LOGIN });
    expect(next.status, 'a logout frees a slot').to.equal(200);
  });

  it('accepts the token only in Authorization', async () => {
    server = await startGuardedServer();
    const token = await loginToken(server);
    const elsewhere: Array<[string, string, Record<string, string>]> = [
      ['access_token query parameter', `/api/profile?access_token=${token}`, {}],
      ['token query parameter', `/api/profile?token=${token}`, {}],
      ['cookie', '/api/profile', { cookie: `token=${token}; access_token=${token}` }],
      ['X-Auth-Token header', '/api/profile', { 'x-auth-token': token }],
      ['X-Access-Token header', '/api/profile', { 'x-access-token': token }],
      ['Authorization without a scheme', '/api/profile', { authorization: token }],
      ['Authorization with the Token scheme', '/api/profile', { authorization: `Token ${token}` }],
      ['Authorization with two tokens', '/api/profile', { authorization: `Bearer ${token} ${token}` }],
    ];
    for (const [name, path, headers] of elsewhere) {
      const response = await request<Json>(server.baseUrl, path, { headers });
      expect(response.status, name).to.equal(401);
      expect(response.body.code, name).to.equal('AUTH_REQUIRED');
    }

    const queryLogout = await request<Json>(server.baseUrl, `/api/auth/logout?access_token=${token}`, { method: 'POST' });
    expect(queryLogout.status).to.equal(401);
    const lowerCaseScheme = await request<Json>(server.baseUrl, '/api/profile', { headers: { authorization: `bearer ${token}` } });
    expect(lowerCaseScheme.status, 'the scheme name of HTTP authentication is case-insensitive').to.equal(200);
  });

  describe('socket timeouts', () => {
    // connectionsCheckingInterval keeps its production value, so these tests also prove it is short enough.
    const shortTimeouts: Partial<ServerTimeouts> = {
      headersTimeout: 500,
      requestTimeout: 1_000,
      keepAliveTimeout: 300,
    };
    /** Bound on every wait below: far above the short timeouts, far below the mocha timeout. */
    const WAIT_BOUND_MS = 8_000;

    /** Writes `text` one byte every `intervalMs` and resolves with what the server sent once it closes the socket. */
    function trickle(port: number, text: string, intervalMs: number): Promise<{ response: RawResponse; bytesSent: number; elapsedMs: number }> {
      return new Promise((resolve) => {
        const started = performance.now();
        const socket: Socket = connect({ port, host: '127.0.0.1' });
        const chunks: Buffer[] = [];
        let sent = 0;
        const timer = setInterval(() => {
          if (sent < text.length && performance.now() - started < WAIT_BOUND_MS) {
            socket.write(text[sent] ?? '');
            sent += 1;
          } else {
            socket.destroy();
          }
        }, intervalMs);
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearInterval(timer);
          resolve({ response: parseRawResponse(Buffer.concat(chunks).toString('utf8')), bytesSent: sent, elapsedMs: performance.now() - started });
        });
      });
    }

    it('cuts clients that trickle header bytes', async () => {
      server = await startGuardedServer({ timeouts: shortTimeouts });
      const port = server.port;
      const slowHeaders = `GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Padding: ${'a'.repeat(400)}\r\n\r\n`;
      const slowClients = Array.from({ length: 5 }, () => trickle(port, slowHeaders, 20));

      await delay(200);
      await expectHealthy(server);

      for (const { response, bytesSent, elapsedMs } of await Promise.all(slowClients)) {
        expect(response.status, 'Node sends 408 on a headers timeout').to.equal(408);
        expect(bytesSent, 'cut before the headers were complete').to.be.below(slowHeaders.length);
        expect(elapsedMs).to.be.below(WAIT_BOUND_MS);
      }
      await expectHealthy(server);
    });

    it('cuts clients that trickle the body', async () => {
      server = await startGuardedServer({ timeouts: shortTimeouts });
      const port = server.port;
      const body = JSON.stringify(LOGIN);
      const head = `POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      const socket = connect({ port, host: '127.0.0.1' });
      const closed = new Promise<string>((resolve) => {
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      });
      socket.write(head);
      let sent = 0;
      const started = performance.now();
      const timer = setInterval(() => {
        if (sent < body.length - 1 && performance.now() - started < WAIT_BOUND_MS) socket.write(body[sent++] ?? '');
        else clearInterval(timer);
      }, 50);
      try {
        const raw = await closed;
        expect(parseRawResponse(raw).status, 'Node sends 408 on a request timeout').to.equal(408);
        expect(performance.now() - started).to.be.below(WAIT_BOUND_MS);
      } finally {
        clearInterval(timer);
        socket.destroy();
      }
      expect(server.verifyCalls()).to.equal(0);
      await expectHealthy(server);
    });

    it('closes idle keep-alive sockets', async () => {
      server = await startGuardedServer({ timeouts: shortTimeouts });
      const port = server.port;
      const socket = connect({ port, host: '127.0.0.1' });
      const started = performance.now();
      const firstResponse = new Promise<void>((resolve) => socket.once('data', () => resolve()));
      const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now() - started)));
      socket.on('error', () => undefined);
      socket.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      await firstResponse;
      const timeout = delay(WAIT_BOUND_MS).then(() => Number.POSITIVE_INFINITY);
      const closedAfterMs = await Promise.race([closed, timeout]);
      socket.destroy();
      expect(closedAfterMs, 'the server closed the idle socket').to.be.below(WAIT_BOUND_MS);
      await expectHealthy(server);
    });

    it('survives clients that abort mid-response', async () => {
      server = await startGuardedServer();
      const token = await loginToken(server);
      const path = `/api/rooms/${DEMO_IDS.roomId}/messages?limit=500`;
      const complete = await request<Json>(server.baseUrl, path, { token });
      expect(complete.status).to.equal(200);

      for (let round = 0; round < 20; round += 1) {
        await new Promise<void>((resolve) => {
          const socket = connect({ port: server!.port, host: '127.0.0.1' });
          socket.on('error', () => undefined);
          socket.once('data', () => socket.destroy());
          socket.on('close', () => resolve());
          socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server!.port}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
        });
      }
      for (let round = 0; round < 20; round += 1) {
        await new Promise<void>((resolve) => {
          const socket = connect({ port: server!.port, host: '127.0.0.1' });
          socket.on('error', () => undefined);
          socket.on('close', () => resolve());
          socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:`, () => socket.destroy());
        });
      }

      await expectHealthy(server);
      const again = await request<Json>(server.baseUrl, path, { token });
      expect(again.body, 'the same data after the aborted requests').to.deep.equal(complete.body);
    });

    it('rejects oversized headers with 431', async () => {
      server = await startGuardedServer();
      const response = await sendRaw(server.port, `GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
      expect(response.status).to.equal(431);
      await expectHealthy(server);
    });
  });
});

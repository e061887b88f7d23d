// Signaling server faults beyond those in test/sidecar/auth.test.ts: stalled and endless bodies, dropped connections, wrong content.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { expect } from 'chai';

import { DEMO_PASSWORD, startTestServer, type TestServer } from '../helpers/api-server.js';
import { copyDemoDatabase } from '../helpers/fixture-db.js';
import { request } from '../helpers/openapi-check.js';

type Json = Record<string, any>;
type Behaviour = (request: IncomingMessage, response: ServerResponse) => void;

const SIGNALING_TIMEOUT_MS = 400;
/** Upper bound on a 502: the signaling timeout plus a wide margin for slow machines. */
const UPSTREAM_FAILURE_BOUND_MS = 5_000;
const ALICE_USER = '{"user":{"id":"user-alice-01","username":"alice","displayName":"Alice"}}';

describe('signaling server faults', () => {
  let signaling: Server;
  let signalingUrl: string;
  let behaviour: Behaviour;
  let server: TestServer;
  /** Timers that a behaviour starts, so that no chunk is written after a test ends. */
  const timers = new Set<NodeJS.Timeout>();

  before(async () => {
    signaling = createServer((incoming, response) => {
      incoming.resume();
      behaviour(incoming, response);
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
      signaling: { timeoutMs: SIGNALING_TIMEOUT_MS, maxResponseBytes: 4096 },
      settings: { allowedServers: [] },
    });
    server.settings.allowedServers = [signalingUrl];
  });

  afterEach(async () => {
    for (const timer of timers) clearInterval(timer);
    timers.clear();
    signaling.closeAllConnections();
    await server.close();
  });

  function login(password = DEMO_PASSWORD) {
    return request<Json>(server.baseUrl, '/api/auth/login', { method: 'POST', body: { username: 'alice', password, serverUrl: signalingUrl } });
  }

  /** Writes a chunk every 20 ms until the client goes away or the test ends. */
  function writeForever(response: ServerResponse, chunk: string): void {
    const timer = setInterval(() => {
      if (response.destroyed) clearInterval(timer);
      else response.write(chunk);
    }, 20);
    timers.add(timer);
  }

  const faults: Array<[string, Behaviour]> = [
    [
      'headers, then a body that stalls',
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"user":{"id":"user-');
      },
    ],
    [
      'an endless chunked body',
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"user":{"id":"');
        writeForever(response, 'x'.repeat(512));
      },
    ],
    [
      'a connection dropped mid-body',
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        response.write('{"user":{"id":"user-alice-01"', () => response.destroy());
      },
    ],
    [
      'a connection dropped before any response',
      (request) => {
        request.socket.destroy();
      },
    ],
    [
      'HTML instead of JSON',
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Sign in</body></html>');
      },
    ],
    [
      'a user without an id',
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"user":{"id":"","username":"alice"}}');
      },
    ],
    [
      'a redirect to a URL that would accept',
      (_request, response) => {
        response.writeHead(307, { location: `${signalingUrl}/accept` }).end();
      },
    ],
  ];

  for (const [name, fault] of faults) {
    it(`${name}: 502, then 200 when healthy`, async () => {
      behaviour = fault;
      const started = performance.now();
      const failed = await login();
      expect(failed.status, JSON.stringify(failed.body)).to.equal(502);
      expect(failed.body.code).to.equal('UPSTREAM_UNREACHABLE');
      expect(performance.now() - started).to.be.below(UPSTREAM_FAILURE_BOUND_MS);
      expect(server.tokens.size).to.equal(0);

      behaviour = (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(ALICE_USER);
      const recovered = await login();
      expect(recovered.status, 'a healthy signaling server works again').to.equal(200);
    });
  }

  it('401 with an endless body: fast 401', async () => {
    behaviour = (_request, response) => {
      response.writeHead(401, { 'content-type': 'application/json' });
      writeForever(response, 'x'.repeat(512));
    };
    const started = performance.now();
    const rejected = await login('wrong password');
    expect(rejected.status).to.equal(401);
    expect(rejected.body.code).to.equal('INVALID_CREDENTIALS');
    expect(performance.now() - started, 'the body is not read').to.be.below(UPSTREAM_FAILURE_BOUND_MS);
  });

  it('upstream faults: no failed-login count', async () => {
    behaviour = (_request, response) => response.writeHead(500).end();
    for (let attempt = 0; attempt < 12; attempt += 1) {
      expect((await login()).status, `attempt ${attempt + 1}`).to.equal(502);
    }

    behaviour = (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(ALICE_USER);
    const afterOutage = await login();
    expect(afterOutage.status, 'an outage of the signaling server does not lock the user out').to.equal(200);
  });
});

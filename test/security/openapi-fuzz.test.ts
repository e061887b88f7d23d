// Property-based requests built from the OpenAPI document: no input makes the server fail with 5xx or leave its documented responses.

import { request as httpRequest } from 'node:http';

import { expect } from 'chai';
import fc from 'fast-check';
import type { OperationObject, ParameterObject, SchemaObject } from 'openapi3-ts/oas31';

import { DEMO_IDS } from '../../fixtures/generate.js';
import { createDocsMiddleware } from '../../sidecar/docs/index.js';
import { buildOpenApiDocument } from '../../sidecar/openapi/document.js';
import { DEMO_PASSWORD, DEMO_SERVER_URL, startTestServer, type TestServer } from '../helpers/api-server.js';
import { copyDemoDatabase } from '../helpers/fixture-db.js';
import { expectDocumentedResponse, type CheckedResponse } from '../helpers/openapi-check.js';

/** Runs of the property; each sends one request, which keeps the test well under 30 s. */
const RUNS = 300;

interface Operation {
  method: 'get' | 'post';
  template: string;
  parameters: ParameterObject[];
  hasBody: boolean;
  needsToken: boolean;
}

interface GeneratedRequest {
  operation: Operation;
  path: string;
  tokenKind: 'valid' | 'none' | 'unknown' | 'malformed';
  contentType: string | undefined;
  body: string | undefined;
  scalarDocs: boolean;
  docusaurusDocs: boolean;
}

function documentedOperations(): Operation[] {
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(buildOpenApiDocument().paths ?? {})) {
    for (const method of ['get', 'post'] as const) {
      const operation = (item as Record<string, OperationObject | undefined>)[method];
      if (!operation) continue;
      operations.push({
        method,
        template,
        parameters: (operation.parameters ?? []) as ParameterObject[],
        hasBody: operation.requestBody !== undefined,
        needsToken: (operation.security ?? []).length > 0,
      });
    }
  }
  return operations;
}

/** Known-good values, so that some generated requests reach the database and succeed. */
const VALID_VALUES: Record<string, string[]> = {
  roomId: [DEMO_IDS.roomId, DEMO_IDS.longBanRoomId, DEMO_IDS.privateRoomId],
  messageId: [DEMO_IDS.messageId],
  userId: [DEMO_IDS.currentUserId, DEMO_IDS.activeBanUserId, DEMO_IDS.otherUserId],
  key: ['metoyou_currentUserId', 'favorites'],
  pluginId: ['example.soundboard'],
  scope: ['local', 'server'],
  serverId: [DEMO_IDS.roomId],
  path: ['index.html', 'docs', 'missing.js', '..', '%2e%2e'],
};

/** Path segments sent exactly as written: broken or tricky percent-encoding, dot segments, NUL. */
const RAW_SEGMENTS = ['..', '.', '%', '%2', '%ZZ', '%E0%A4%A', '%C0%AF', '%00', '%2F', '%252F', '%2e%2e', '%FF%FE', 'a%20b', '~'];

const unicodeText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
const hugeText = fc.string({ minLength: 257, maxLength: 3000 });

const integerText = fc.oneof(
  fc.integer({ min: 0, max: 1000 }).map(String),
  fc.integer({ min: -1_000_000, max: -1 }).map(String),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 80n }).map(String),
  fc.double().map(String),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e3', '0x10', '1.5', '', ' 1', '+1', '-0', '00', '9007199254740993', '1'.repeat(400)),
);

/** Generates an encoded path segment for a parameter: valid, unicode, huge, numeric or raw tricky text. */
function pathSegment(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...(VALID_VALUES[name] ?? ['x'])).map(encodeURIComponent) },
    { weight: 2, arbitrary: unicodeText.map(encodeURIComponent) },
    { weight: 1, arbitrary: hugeText.map(encodeURIComponent) },
    { weight: 1, arbitrary: integerText.filter((text) => text !== '').map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  );
}

function queryValue(parameter: ParameterObject): fc.Arbitrary<string> {
  const schema = (parameter.schema ?? {}) as SchemaObject;
  const valid = VALID_VALUES[parameter.name];
  const typed =
    schema.type === 'integer'
      ? integerText
      : fc.oneof(unicodeText, hugeText, fc.base64String({ maxLength: 64 }), fc.constant(''));
  return valid ? fc.oneof(fc.constantFrom(...valid), typed) : typed;
}

/** Generates a query string: each documented parameter present or not, sometimes repeated, plus unknown names and raw encodings. */
function queryString(parameters: ParameterObject[]): fc.Arbitrary<string> {
  const queryParameters = parameters.filter((parameter) => parameter.in === 'query');
  const entries = queryParameters.map((parameter) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant<Array<[string, string]>>([]) },
      { weight: 4, arbitrary: queryValue(parameter).map((value): Array<[string, string]> => [[parameter.name, value]]) },
      { weight: 1, arbitrary: fc.tuple(queryValue(parameter), queryValue(parameter)).map(([a, b]): Array<[string, string]> => [[parameter.name, a], [parameter.name, b]]) },
    ),
  );
  const unknown = fc.oneof(
    fc.constant<Array<[string, string]>>([]),
    fc.tuple(unicodeText, unicodeText).map(([name, value]): Array<[string, string]> => [[name, value]]),
  );
  const raw = fc.constantFrom('', '&limit=%E0%A4%A', '&offset=%ZZ', '&&&', '&=', '&limit', '&__proto__=1', '&constructor[prototype][x]=1');
  return fc.tuple(fc.tuple(...entries, unknown), raw).map(([groups, rawTail]) => {
    const search = new URLSearchParams(groups.flat()).toString();
    const query = `${search}${rawTail}`;
    return query === '' ? '' : `?${query}`;
  });
}

const loginBody = fc.oneof(
  { weight: 2, arbitrary: fc.constant(JSON.stringify({ username: 'alice', password: DEMO_PASSWORD, serverUrl: DEMO_SERVER_URL })) },
  {
    weight: 3,
    arbitrary: fc
      .record(
        { username: fc.oneof(unicodeText, fc.anything(), hugeText), password: fc.oneof(unicodeText, fc.anything(), hugeText), serverUrl: fc.oneof(fc.constant(DEMO_SERVER_URL), fc.webUrl(), unicodeText, fc.anything()) },
        { requiredKeys: [] },
      )
      .map((value) => JSON.stringify(value)),
  },
  { weight: 2, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '{"username":', 'null', '[]', '"alice"', '{"__proto__":{"admin":true}}', '\u0000', 'x'.repeat(9000)) },
);

const requestArbitrary: fc.Arbitrary<GeneratedRequest> = fc
  .constantFrom(...documentedOperations())
  .chain((operation) => {
    const pathNames = [...operation.template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
    return fc.record({
      operation: fc.constant(operation),
      segments: fc.tuple(...pathNames.map((name) => pathSegment(name))),
      query: queryString(operation.parameters),
      tokenKind: fc.constantFrom<GeneratedRequest['tokenKind']>('valid', 'valid', 'none', 'unknown', 'malformed'),
      contentType: operation.hasBody ? fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', undefined) : fc.constant(undefined),
      body: operation.hasBody ? loginBody : fc.constant(undefined),
      scalarDocs: fc.boolean(),
      docusaurusDocs: fc.boolean(),
    });
  })
  .map(({ operation, segments, query, ...rest }) => {
    let index = 0;
    const path = operation.template.replace(/\{\w+\}/g, () => segments[index++] ?? 'x') + query;
    return { operation, path, ...rest };
  });

/** Sends the request with node:http, because fetch would normalize dot segments and percent-encoding. */
function send(port: number, generated: GeneratedRequest, token: string): Promise<CheckedResponse> {
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, connection: 'close' };
  if (generated.tokenKind === 'valid') headers.authorization = `Bearer ${token}`;
  if (generated.tokenKind === 'unknown') headers.authorization = `Bearer local_${'A'.repeat(43)}`;
  if (generated.tokenKind === 'malformed') headers.authorization = `Bearer ${token} extra`;
  if (generated.contentType) headers['content-type'] = generated.contentType;
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method: generated.operation.method.toUpperCase(), path: generated.path, headers }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (typeof value === 'string') responseHeaders.set(name, value);
        }
        const isJson = (responseHeaders.get('content-type') ?? '').includes('json');
        resolve({ status: incoming.statusCode ?? 0, headers: responseHeaders, text, body: text !== '' && isJson ? JSON.parse(text) : text });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(generated.body);
  });
}

describe('OpenAPI fuzzing', function () {
  this.timeout(60_000);
  let server: TestServer;

  before(async () => {
    server = await startTestServer(await copyDemoDatabase(), {
      // Failed logins are part of the input, so throttling would turn most later logins into 429.
      throttle: { perClientFailures: 1_000_000, globalFailures: 1_000_000, windowSeconds: 60 },
      beforeRoutes: [
        createDocsMiddleware({
          isScalarEnabled: () => server.settings.scalarDocs,
          isDocusaurusEnabled: () => server.settings.docusaurusDocs,
        }),
      ],
    });
  });

  after(async () => {
    await server.close();
  });

  it('keeps every response documented and below 500', async () => {
    let token = await server.login();
    const statuses = new Map<number, number>();

    await fc.assert(
      fc.asyncProperty(requestArbitrary, async (generated) => {
        server.settings.scalarDocs = generated.scalarDocs;
        server.settings.docusaurusDocs = generated.docusaurusDocs;
        const response = await send(server.port, generated, token);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);

        expect(response.status, `${generated.operation.method} ${generated.path}`).to.be.below(500);
        expectDocumentedResponse(generated.operation.method.toUpperCase(), generated.path, response);
        expect(response.text, 'no stack trace in a response').to.not.match(/\n\s+at [\w.<]+ \(/);

        // Keep exactly one live token: revoke each token a generated login created, and replace one a logout revoked.
        if (generated.operation.template === '/api/auth/login' && response.status === 200) {
          server.tokens.revoke((response.body as { token: string }).token);
        }
        if (generated.operation.template === '/api/auth/logout' && response.status === 204 && generated.tokenKind === 'valid') {
          token = await server.login();
        }
      }),
      { numRuns: RUNS },
    );

    // Guards against a generator that only ever produces rejected requests.
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).to.be.at.least(20);
    expect(statuses.get(400) ?? 0, JSON.stringify([...statuses])).to.be.at.least(10);
    expect(statuses.get(401) ?? 0, JSON.stringify([...statuses])).to.be.at.least(10);
    expect(server.tokens.size, 'only the fuzzing token is live').to.equal(1);
  });
});

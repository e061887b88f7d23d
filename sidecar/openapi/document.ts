// Builds the OpenAPI 3.1 document from the route table, the schemas and the error registry.

import { createRequire } from 'node:module';

import type { OpenApiBuilder as OpenApiBuilderClass, OpenAPIObject, OperationObject, ParameterObject, ResponsesObject } from 'openapi3-ts/oas31';
import type * as yup from 'yup';

import { ERROR_CODES, problemTypeUri, type ErrorCode } from '../../shared/errors.js';
import { errorCodesOf, type RouteDefinition } from '../routes/definition.js';
import type { ParameterMeta } from '../routes/parameters.js';
import { apiRoutes } from '../routes/index.js';
import { SCHEMAS } from './schemas.js';

const require = createRequire(import.meta.url);
const packageJson = require('../../../package.json') as { version: string };

export const SERVER_VERSION = packageJson.version;

/** Codes that any path can return, rather than one operation. */
export const GLOBAL_ERROR_CODES: ErrorCode[] = ['ROUTE_NOT_FOUND', 'METHOD_NOT_ALLOWED', 'HOST_NOT_ALLOWED', 'ORIGIN_NOT_ALLOWED', 'INTERNAL_ERROR'];

const DESCRIPTION = `Read-only HTTP API over the local data of the MetoYou desktop app.

Protected routes need \`Authorization: Bearer <token>\`; get a token from \`POST /api/auth/login\`.
Tokens expire after one hour and live only in the server's memory, so stopping the server clears them.

Every error is an RFC 9457 problem (\`application/problem+json\`) whose \`code\` member is one of the
stable codes below. Besides the codes each operation lists, any path can return
${GLOBAL_ERROR_CODES.map((code) => `\`${code}\``).join(', ')}.`;

const TAGS: Record<string, string> = {
  Public: 'Routes that need no token.',
  Authentication: 'Getting and revoking local bearer tokens.',
  Users: 'Users known to this device, and the signed-in desktop user.',
  Rooms: 'Rooms, their members and their bans.',
  Messages: 'Messages stored on this device, with their reactions and attachments.',
  Attachments: 'Attachment metadata across all rooms.',
  'Plugin data': 'Values that desktop plugins store, per device or per server.',
  Metadata: 'Key/value metadata of the desktop app.',
  Documentation: 'Offline documentation pages, each behind its own Settings toggle.',
};

function parametersOf(location: 'path' | 'query', schema: yup.AnyObjectSchema | undefined): ParameterObject[] {
  if (!schema) return [];
  const description = schema.describe();
  return Object.entries(description.fields).map(([name, field]) => {
    const fieldDescription = field as yup.SchemaDescription;
    const meta = fieldDescription.meta as ParameterMeta | undefined;
    if (!meta) throw new Error(`Parameter "${name}" has no OpenAPI meta; build it with the helpers in parameters.ts.`);
    const parameter: ParameterObject = {
      name,
      in: location,
      required: location === 'path' || !fieldDescription.optional,
      description: meta.description,
      schema: meta.schema,
    };
    if (meta.example !== undefined) parameter.example = meta.example;
    return parameter;
  });
}

function errorResponses(codes: ErrorCode[]): ResponsesObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: ResponsesObject = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const examples = Object.fromEntries(
      statusCodes.map((code) => [
        code,
        {
          summary: ERROR_CODES[code].title,
          value: { type: problemTypeUri(code), title: ERROR_CODES[code].title, status, detail: ERROR_CODES[code].title, code, requestId: 'b0c3d6e2' },
        },
      ]),
    );
    responses[String(status)] = {
      description: statusCodes.map((code) => `\`${code}\`: ${ERROR_CODES[code].title}`).join(' '),
      ...(status === 401 ? { headers: { 'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' } } } : {}),
      ...(status === 429 ? { headers: { 'Retry-After': { $ref: '#/components/headers/Retry-After' } } } : {}),
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' }, examples } },
    };
  }
  return responses;
}

function operationOf(route: RouteDefinition<unknown, unknown>): OperationObject {
  const codes = errorCodesOf(route);
  const { response } = route;
  const success = response.schema
    ? { description: response.description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${response.schema}` }, ...(response.example === undefined ? {} : { example: response.example }) } } }
    : route.operationId === 'getOpenApiDocument'
      ? { description: response.description, content: { 'application/json': { schema: { type: 'object' as const } } } }
      : { description: response.description };
  const operation: OperationObject = {
    operationId: route.operationId,
    summary: route.summary,
    description: route.description,
    tags: [route.tag],
    parameters: [...parametersOf('path', route.params), ...parametersOf('query', route.query)],
    responses: { [String(response.status)]: success, ...errorResponses(codes) },
    'x-error-codes': codes,
  };
  operation.security = route.auth ? [{ bearerAuth: [] }] : [];
  if (route.requestBody) {
    operation.requestBody = {
      required: true,
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.requestBody}` } } },
    };
  }
  return operation;
}

function docsOperation(path: string, summary: string, description: string): OperationObject {
  return {
    operationId: path === '/docs' ? 'getScalarReference' : 'getDocusaurusSite',
    summary,
    description,
    tags: ['Documentation'],
    security: [],
    responses: {
      '200': { description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } },
      ...errorResponses(['DOCS_DISABLED', 'ROUTE_NOT_FOUND']),
    },
    'x-error-codes': ['DOCS_DISABLED', 'ROUTE_NOT_FOUND'],
  };
}

let cached: OpenAPIObject | undefined;

/** Returns the OpenAPI document; it depends only on the code, so it is built once. */
export function buildOpenApiDocument(): OpenAPIObject {
  if (cached) return cached;
  // openapi3-ts (with its YAML parser) loads on first use, because only the document route needs it and the sidecar should start fast.
  const { OpenApiBuilder } = require('openapi3-ts/oas31') as { OpenApiBuilder: typeof OpenApiBuilderClass };
  const builder = OpenApiBuilder.create()
    .addOpenApiVersion('3.1.0')
    .addTitle('MetoYou Local API')
    .addVersion(SERVER_VERSION)
    .addDescription(DESCRIPTION)
    .addLicense({ name: 'Proprietary', identifier: 'LicenseRef-MetoYou' })
    .addServer({ url: 'http://127.0.0.1:17878', description: 'Default local address' })
    .addSecurityScheme('bearerAuth', {
      type: 'http',
      scheme: 'bearer',
      description: 'A `local_` token from `POST /api/auth/login`, sent as `Authorization: Bearer <token>`. Query-string tokens are not accepted.',
    })
    .addHeader('WWW-Authenticate', { description: 'RFC 6750 bearer challenge.', schema: { type: 'string' } })
    .addHeader('Retry-After', { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } });
  for (const [name, schema] of Object.entries(SCHEMAS)) builder.addSchema(name, schema);
  for (const [name, description] of Object.entries(TAGS)) builder.addTag({ name, description });

  const paths = new Map<string, Record<string, OperationObject>>();
  for (const route of apiRoutes) {
    paths.set(route.path, { ...paths.get(route.path), [route.method]: operationOf(route) });
  }
  for (const [path, item] of paths) builder.addPath(path, item);
  builder.addPath('/docs', { get: docsOperation('/docs', 'Open the Scalar API reference', 'The Scalar API reference of this document, served offline. Answers 404 `DOCS_DISABLED` unless Scalar docs are enabled in Settings.') });
  builder.addPath('/docusaurus/{path}', {
    get: {
      ...docsOperation('/docusaurus', 'Open the documentation site', 'The Docusaurus documentation site, served offline. Answers 404 `DOCS_DISABLED` unless Docusaurus docs are enabled in Settings.'),
      parameters: [{ name: 'path', in: 'path', required: true, description: 'Page or asset path inside the site.', schema: { type: 'string' }, example: 'docs/reference' }],
    },
  });
  cached = builder.getSpec();
  return cached;
}

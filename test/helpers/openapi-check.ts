// Checks HTTP responses against the OpenAPI document: the status must be documented and the body must match its schema.

import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'chai';
import type { OpenAPIObject, OperationObject, ResponseObject } from 'openapi3-ts/oas31';

import { buildOpenApiDocument } from '../../sidecar/openapi/document.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const DOCUMENT_ID = 'https://metoyou.local/openapi.json';

let ajv: Ajv2020 | undefined;

function validator(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...buildOpenApiDocument(), $id: DOCUMENT_ID } as object);
  return ajv;
}

export interface CheckedResponse<Body = unknown> {
  status: number;
  headers: Headers;
  body: Body;
  text: string;
}

/** Finds the documented operation of a concrete path, such as `/api/rooms/room-1/messages`. */
export function findOperation(method: string, concretePath: string, document: OpenAPIObject = buildOpenApiDocument()): { template: string; operation: OperationObject } {
  const pathOnly = concretePath.split('?')[0] ?? concretePath;
  for (const [template, item] of Object.entries(document.paths ?? {})) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const operation = (item as Record<string, OperationObject | undefined>)[method.toLowerCase()];
    if (operation && pattern.test(pathOnly)) return { template, operation };
  }
  throw new Error(`No documented operation for ${method} ${pathOnly}`);
}

/** Asserts that a response's status is documented for its operation and that its body matches the schema. */
export function expectDocumentedResponse(method: string, path: string, response: CheckedResponse): void {
  const { template, operation } = findOperation(method, path);
  const documented = operation.responses?.[String(response.status)] as ResponseObject | undefined;
  expect(documented, `status ${response.status} documented for ${method} ${template}`).to.not.equal(undefined);
  const content = documented?.content ?? {};
  const mediaTypes = Object.keys(content);
  if (mediaTypes.length === 0) {
    expect(response.text, `empty body for ${response.status} of ${method} ${template}`).to.equal('');
    return;
  }
  const contentType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  expect(mediaTypes, `content type of ${method} ${template} ${response.status}`).to.include(contentType);
  if (!contentType.endsWith('json')) return;
  const pointer = `${DOCUMENT_ID}#/paths/${template.replaceAll('~', '~0').replaceAll('/', '~1')}/${method.toLowerCase()}/responses/${response.status}/content/${contentType.replace('/', '~1')}/schema`;
  const validate = validator().getSchema(pointer);
  if (!validate) throw new Error(`No schema at ${pointer}`);
  const valid = validate(response.body);
  expect(valid, `${method} ${template} ${response.status} body: ${JSON.stringify(validate.errors)}`).to.equal(true);
}

export interface RequestOptions {
  method?: string;
  token?: string;
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
}

/** Sends a request with fetch and checks the response against the OpenAPI document. */
export async function request<Body = Record<string, unknown>>(baseUrl: string, path: string, options: RequestOptions = {}): Promise<CheckedResponse<Body>> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(baseUrl + path, { method, headers, body });
  const text = await response.text();
  const parsed = text !== '' && (response.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as Body) : (text as unknown as Body);
  const checked: CheckedResponse<Body> = { status: response.status, headers: response.headers, body: parsed, text };
  expectDocumentedResponse(method, path, checked as CheckedResponse);
  return checked;
}

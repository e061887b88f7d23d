// The OpenAPI document: valid by an independent linter, and in step with the route table and the error registry.

import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';
import type { OperationObject } from 'openapi3-ts/oas31';

import { ALL_ERROR_CODES, ERROR_CODES } from '../../shared/errors.js';
import { buildOpenApiDocument, GLOBAL_ERROR_CODES } from '../../sidecar/openapi/document.js';
import { errorCodesOf } from '../../sidecar/routes/definition.js';
import { apiRoutes } from '../../sidecar/routes/index.js';
import { makeTempDir } from '../helpers/fixture-db.js';

const run = promisify(execFile);

function operations(): Array<{ path: string; method: string; operation: OperationObject }> {
  const result: Array<{ path: string; method: string; operation: OperationObject }> = [];
  for (const [path, item] of Object.entries(buildOpenApiDocument().paths ?? {})) {
    for (const [method, operation] of Object.entries(item as Record<string, OperationObject>)) {
      result.push({ path, method, operation });
    }
  }
  return result;
}

describe('OpenAPI document', () => {
  it('passes redocly lint with no errors or warnings', async function lint() {
    this.timeout(60_000);
    const directory = await makeTempDir();
    const file = join(directory, 'openapi.json');
    await writeFile(file, JSON.stringify(buildOpenApiDocument()));
    const { stdout, stderr } = await run(join('node_modules', '.bin', 'redocly'), ['lint', file, '--format', 'stylish'], {
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    const output = stdout + stderr;
    expect(output).to.match(/Woohoo! Your API description is valid/);
    expect(output).to.not.match(/\d+ warnings?/);
    expect(output).to.not.match(/\d+ errors?/);
  });

  it('is version 3.1 with a bearer scheme', () => {
    const document = buildOpenApiDocument();
    expect(document.openapi).to.equal('3.1.0');
    expect(document.components?.securitySchemes?.bearerAuth).to.deep.include({ type: 'http', scheme: 'bearer' });
  });

  it('documents every route of the route table', () => {
    const documented = new Set(operations().map(({ path, method }) => `${method} ${path}`));
    for (const route of apiRoutes) expect(documented.has(`${route.method} ${route.path}`), `${route.method} ${route.path}`).to.equal(true);
  });

  it('documents every route of the API reference', () => {
    const referenceRoutes = [
      'get /api/health',
      'get /api/openapi.json',
      'post /api/auth/login',
      'post /api/auth/logout',
      'get /api/profile',
      'get /api/rooms',
      'get /api/rooms/{roomId}',
      'get /api/rooms/{roomId}/users',
      'get /api/rooms/{roomId}/messages',
      'get /api/rooms/{roomId}/messages/since',
      'get /api/rooms/{roomId}/bans',
      'get /api/rooms/{roomId}/bans/{userId}',
      'get /api/messages/{messageId}',
      'get /api/messages/{messageId}/reactions',
      'get /api/messages/{messageId}/attachments',
      'get /api/users/{userId}',
      'get /api/attachments',
      'get /api/plugin-data',
      'get /api/meta/{key}',
      'get /docs',
    ];
    const documented = new Set(operations().map(({ path, method }) => `${method} ${path}`));
    for (const route of referenceRoutes) expect(documented.has(route), route).to.equal(true);
  });

  it('marks protected routes with the bearer scheme', () => {
    for (const route of apiRoutes) {
      const operation = operations().find(({ path, method }) => path === route.path && method === route.method)?.operation;
      const secured = (operation?.security ?? []).some((requirement) => 'bearerAuth' in requirement);
      expect(secured, route.operationId).to.equal(route.auth);
    }
  });

  it('lists each operation error code under its status', () => {
    for (const route of apiRoutes) {
      const operation = operations().find(({ operation: candidate }) => candidate.operationId === route.operationId)?.operation;
      for (const code of errorCodesOf(route)) {
        const response = operation?.responses?.[String(ERROR_CODES[code].status)] as { content?: Record<string, { examples?: Record<string, unknown> }> } | undefined;
        expect(response?.content?.['application/problem+json']?.examples, `${route.operationId} ${code}`).to.have.property(code);
      }
    }
  });

  it('documents every registered error code', () => {
    const documented = new Set<string>(GLOBAL_ERROR_CODES);
    for (const { operation } of operations()) {
      for (const code of (operation['x-error-codes'] as string[] | undefined) ?? []) documented.add(code);
    }
    for (const code of ALL_ERROR_CODES) expect(documented.has(code), code).to.equal(true);
  });

  it('documents only registered error codes', () => {
    for (const { operation } of operations()) {
      for (const code of (operation['x-error-codes'] as string[] | undefined) ?? []) expect(ALL_ERROR_CODES).to.include(code);
    }
    const problemCodes = (buildOpenApiDocument().components?.schemas?.Problem as { properties: { code: { enum: string[] } } }).properties.code.enum;
    expect(problemCodes).to.deep.equal(ALL_ERROR_CODES);
  });
});

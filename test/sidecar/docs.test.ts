// Tests of the documentation middleware over real HTTP: toggles, headers, caching and path containment.

import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';
import Koa from 'koa';

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

import { ApiError, errorMiddleware } from '../../sidecar/errors.js';
import { logger } from '../../sidecar/log.js';
import { createDocsMiddleware } from '../../sidecar/docs/index.js';
import { extractInlineScripts, parseRequestSegments } from '../../sidecar/docs/static-files.js';

const SECRET = 'SECRET-OUTSIDE-THE-BUILD-FOLDER-5f1c';
const THEME_SCRIPT = "document.documentElement.setAttribute('data-theme','light')";
const FAKE_BUNDLE = '/* fake Scalar bundle */ window.Scalar = { createApiReference() {} };\n';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a request with the path exactly as given; fetch would normalize `..` and `%2e%2e` first. */
function rawRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function header(response: RawResponse, name: string): string {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

describe('docs middleware', function () {
  let tempDir: string;
  let buildDir: string;
  let bundlePath: string;
  let secretPath: string;
  let server: Server;
  let port: number;
  const toggles = { scalar: true, docusaurus: true };
  let previousLogLevel: string;

  async function writeBuildFile(relativePath: string, content: string): Promise<void> {
    const fullPath = join(buildDir, relativePath);
    await mkdir(join(fullPath, '..'), { recursive: true });
    await writeFile(fullPath, content);
  }

  before(async function () {
    previousLogLevel = logger.level;
    logger.level = 'silent';

    tempDir = await mkdtemp(join(tmpdir(), 'docs-middleware-'));
    buildDir = join(tempDir, 'build');
    secretPath = join(tempDir, 'secret.txt');
    bundlePath = join(tempDir, 'scalar', 'standalone.js');
    await writeFile(secretPath, SECRET);
    await mkdir(join(tempDir, 'scalar'));
    await writeFile(bundlePath, FAKE_BUNDLE);

    await writeBuildFile(
      'index.html',
      `<!doctype html><html><head><script>${THEME_SCRIPT}</script>` +
        '<script src="/docusaurus/assets/js/main.0a1b2c3d.js" defer></script></head><body>Home page</body></html>',
    );
    await writeBuildFile('docs/errors/index.html', '<!doctype html><html><body>Error codes page</body></html>');
    await writeBuildFile('docs/scripting.html', '<!doctype html><html><body>Scripting page</body></html>');
    await writeBuildFile('assets/js/main.0a1b2c3d.js', 'console.log("main bundle");');
    await writeBuildFile('assets/css/styles.9f8e7d6c.css', 'body { color: black; }');
    await writeBuildFile('img/logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"></svg>');
    await writeBuildFile('fonts/inter.woff2', 'not really a font');
    await writeBuildFile('sitemap.xml', '<?xml version="1.0"?><urlset></urlset>');
    await writeBuildFile('data.unknownext', 'opaque bytes');
    await writeBuildFile('.hidden', `hidden ${SECRET}`);

    await symlink(secretPath, join(buildDir, 'leak.txt'));
    await symlink(tempDir, join(buildDir, 'leakdir'));
    await symlink(join(buildDir, '.hidden'), join(buildDir, 'visible-link-to-hidden.txt'));
    await symlink(join(buildDir, 'index.html'), join(buildDir, 'inner-link.html'));

    const app = new Koa();
    app.use(errorMiddleware);
    app.use(
      createDocsMiddleware({
        isScalarEnabled: () => toggles.scalar,
        isDocusaurusEnabled: () => toggles.docusaurus,
        docusaurusBuildDir: buildDir,
        scalarBundlePath: bundlePath,
      }),
    );
    app.use(async (ctx) => {
      if (ctx.path === '/api/next') {
        ctx.body = { reached: 'next' };
        return;
      }
      throw new ApiError('ROUTE_NOT_FOUND');
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async function () {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    logger.level = previousLogLevel;
  });

  beforeEach(function () {
    toggles.scalar = true;
    toggles.docusaurus = true;
  });

  describe('toggles', function () {
    const scalarPaths = ['/docs', '/docs/', '/docs/scalar.js', '/docs/init.js', '/docs/missing'];
    const docusaurusPaths = ['/docusaurus', '/docusaurus/', '/docusaurus/index.html', '/docusaurus/assets/js/main.0a1b2c3d.js'];

    for (const path of scalarPaths) {
      it(`scalar off answers DOCS_DISABLED for ${path}`, async function () {
        toggles.scalar = false;
        const response = await rawRequest(port, path);
        expect(response.status).to.equal(404);
        expect(header(response, 'content-type')).to.match(/^application\/problem\+json/);
        expect(JSON.parse(response.body).code).to.equal('DOCS_DISABLED');
      });
    }

    for (const path of docusaurusPaths) {
      it(`docusaurus off answers DOCS_DISABLED for ${path}`, async function () {
        toggles.docusaurus = false;
        const response = await rawRequest(port, path);
        expect(response.status).to.equal(404);
        expect(JSON.parse(response.body).code).to.equal('DOCS_DISABLED');
      });
    }

    it('disabled docs refuse other methods too', async function () {
      toggles.scalar = false;
      toggles.docusaurus = false;
      const scalar = await rawRequest(port, '/docs', { method: 'POST' });
      const docusaurus = await rawRequest(port, '/docusaurus/', { method: 'DELETE' });
      expect(JSON.parse(scalar.body).code).to.equal('DOCS_DISABLED');
      expect(JSON.parse(docusaurus.body).code).to.equal('DOCS_DISABLED');
    });

    it('reads each toggle on every request', async function () {
      toggles.scalar = false;
      expect((await rawRequest(port, '/docs')).status).to.equal(404);
      toggles.scalar = true;
      expect((await rawRequest(port, '/docs')).status).to.equal(200);
      toggles.docusaurus = false;
      expect((await rawRequest(port, '/docusaurus/')).status).to.equal(404);
      toggles.docusaurus = true;
      expect((await rawRequest(port, '/docusaurus/')).status).to.equal(200);
    });

    it('one toggle leaves the other site on', async function () {
      toggles.scalar = false;
      expect((await rawRequest(port, '/docusaurus/')).status).to.equal(200);
      toggles.scalar = true;
      toggles.docusaurus = false;
      expect((await rawRequest(port, '/docs')).status).to.equal(200);
    });

    it('passes other paths to the next middleware', async function () {
      toggles.scalar = false;
      toggles.docusaurus = false;
      const next = await rawRequest(port, '/api/next');
      expect(next.status).to.equal(200);
      expect(JSON.parse(next.body)).to.deep.equal({ reached: 'next' });
      for (const path of ['/docsx', '/docusaurusx', '/doc', '/DOCS']) {
        const response = await rawRequest(port, path);
        expect(JSON.parse(response.body).code, path).to.equal('ROUTE_NOT_FOUND');
      }
    });
  });

  describe('scalar page', function () {
    it('serves the page with a strict CSP', async function () {
      const response = await rawRequest(port, '/docs');
      expect(response.status).to.equal(200);
      expect(header(response, 'content-type')).to.equal('text/html; charset=utf-8');
      const csp = header(response, 'content-security-policy');
      expect(csp).to.include("default-src 'none'");
      expect(csp).to.include("script-src 'self'");
      expect(csp).to.not.match(/script-src[^;]*'unsafe-inline'/);
      expect(csp).to.include("connect-src 'self'");
      expect(csp).to.include("img-src 'self' data:");
      expect(csp).to.include("font-src 'self' data:");
      expect(csp).to.include("frame-ancestors 'none'");
      expect(csp).to.include("base-uri 'none'");
      expect(csp).to.include("form-action 'none'");
      expect(header(response, 'x-content-type-options')).to.equal('nosniff');
      expect(header(response, 'referrer-policy')).to.equal('no-referrer');
      expect(header(response, 'cache-control')).to.equal('no-cache');
    });

    it('page has no inline script and no external URL', async function () {
      const { body } = await rawRequest(port, '/docs/');
      expect(extractInlineScripts(body)).to.deep.equal([]);
      expect(body).to.not.match(/(src|href)="https?:/);
      expect(body).to.match(/<script src="\/docs\/scalar\.js\?v=[0-9a-f]{16}"><\/script>/);
      expect(body).to.match(/<script src="\/docs\/init\.js\?v=[0-9a-f]{16}"><\/script>/);
    });

    it('serves the bundle with immutable caching', async function () {
      const page = await rawRequest(port, '/docs');
      const bundleUrl = /src="(\/docs\/scalar\.js\?v=[0-9a-f]+)"/.exec(page.body)?.[1];
      expect(bundleUrl).to.be.a('string');
      const expectedVersion = createHash('sha256').update(FAKE_BUNDLE).digest('hex').slice(0, 16);
      expect(bundleUrl).to.equal(`/docs/scalar.js?v=${expectedVersion}`);

      const bundle = await rawRequest(port, bundleUrl!);
      expect(bundle.status).to.equal(200);
      expect(bundle.body).to.equal(FAKE_BUNDLE);
      expect(header(bundle, 'content-type')).to.equal('text/javascript; charset=utf-8');
      expect(header(bundle, 'cache-control')).to.equal('public, max-age=31536000, immutable');
      expect(header(bundle, 'x-content-type-options')).to.equal('nosniff');
    });

    it('bundle without version revalidates', async function () {
      const bundle = await rawRequest(port, '/docs/scalar.js');
      expect(bundle.status).to.equal(200);
      expect(header(bundle, 'cache-control')).to.equal('no-cache');
      const etag = header(bundle, 'etag');
      expect(etag).to.match(/^"[0-9a-f]{16}"$/);

      const revalidated = await rawRequest(port, '/docs/scalar.js', { headers: { 'If-None-Match': etag } });
      expect(revalidated.status).to.equal(304);
      expect(revalidated.body).to.equal('');
    });

    it('init script turns off every remote feature', async function () {
      const init = await rawRequest(port, '/docs/init.js');
      expect(init.status).to.equal(200);
      expect(header(init, 'content-type')).to.equal('text/javascript; charset=utf-8');
      expect(init.body).to.include('"url":"/api/openapi.json"');
      expect(init.body).to.include('"withDefaultFonts":false');
      expect(init.body).to.include('"telemetry":false');
      expect(init.body).to.include('"agent":{"disabled":true}');
      expect(init.body).to.include('"showDeveloperTools":"never"');
      expect(init.body).to.include('"hideClientButton":true');
      expect(init.body).to.not.include('proxyUrl');
    });

    it('unknown file under /docs is ROUTE_NOT_FOUND', async function () {
      const response = await rawRequest(port, '/docs/standalone.js');
      expect(response.status).to.equal(404);
      expect(JSON.parse(response.body).code).to.equal('ROUTE_NOT_FOUND');
    });

    it('POST /docs is METHOD_NOT_ALLOWED', async function () {
      const response = await rawRequest(port, '/docs', { method: 'POST' });
      expect(response.status).to.equal(405);
      expect(header(response, 'allow')).to.equal('GET, HEAD');
      expect(JSON.parse(response.body).code).to.equal('METHOD_NOT_ALLOWED');
    });

    it('missing bundle is a clear problem', async function () {
      const app = new Koa();
      app.use(errorMiddleware);
      app.use(
        createDocsMiddleware({
          isScalarEnabled: () => true,
          isDocusaurusEnabled: () => true,
          scalarBundlePath: join(tempDir, 'no-such-bundle.js'),
          docusaurusBuildDir: buildDir,
        }),
      );
      const otherServer = app.listen(0, '127.0.0.1');
      try {
        await new Promise<void>((resolve) => otherServer.once('listening', resolve));
        const otherPort = (otherServer.address() as AddressInfo).port;
        const response = await rawRequest(otherPort, '/docs/scalar.js');
        expect(response.status).to.equal(404);
        const problem = JSON.parse(response.body);
        expect(problem.code).to.equal('ROUTE_NOT_FOUND');
        expect(problem.detail).to.include('@scalar/api-reference');
        expect(response.body).to.not.include('no-such-bundle');
      } finally {
        await new Promise<void>((resolve) => otherServer.close(() => resolve()));
      }
    });
  });

  describe('docusaurus files', function () {
    it('redirects the bare prefix to the base URL', async function () {
      const response = await rawRequest(port, '/docusaurus?tab=1');
      expect(response.status).to.equal(301);
      expect(header(response, 'location')).to.equal('/docusaurus/?tab=1');
    });

    it('serves index.html with hashed inline scripts', async function () {
      const response = await rawRequest(port, '/docusaurus/');
      expect(response.status).to.equal(200);
      expect(response.body).to.include('Home page');
      expect(header(response, 'content-type')).to.equal('text/html; charset=utf-8');
      expect(header(response, 'cache-control')).to.equal('no-cache');
      const expectedHash = createHash('sha256').update(THEME_SCRIPT).digest('base64');
      const csp = header(response, 'content-security-policy');
      expect(csp).to.include(`script-src 'self' 'sha256-${expectedHash}'`);
      expect(csp).to.not.match(/script-src[^;]*'unsafe-inline'/);
      expect(csp).to.include("default-src 'none'");
      expect(csp).to.include("frame-ancestors 'none'");
      expect(header(response, 'x-content-type-options')).to.equal('nosniff');
      expect(header(response, 'referrer-policy')).to.equal('no-referrer');
    });

    it('serves a folder through its index.html', async function () {
      for (const path of ['/docusaurus/docs/errors', '/docusaurus/docs/errors/']) {
        const response = await rawRequest(port, path);
        expect(response.status, path).to.equal(200);
        expect(response.body, path).to.include('Error codes page');
      }
    });

    it('serves a route from its .html file', async function () {
      const response = await rawRequest(port, '/docusaurus/docs/scripting');
      expect(response.status).to.equal(200);
      expect(response.body).to.include('Scripting page');
    });

    it('follows a link that stays inside', async function () {
      const response = await rawRequest(port, '/docusaurus/inner-link.html');
      expect(response.status).to.equal(200);
      expect(response.body).to.include('Home page');
    });

    const contentTypes: Array<[string, RegExp, string]> = [
      ['/docusaurus/assets/js/main.0a1b2c3d.js', /^(application|text)\/javascript; charset=utf-8$/, 'public, max-age=31536000, immutable'],
      ['/docusaurus/assets/css/styles.9f8e7d6c.css', /^text\/css; charset=utf-8$/, 'public, max-age=31536000, immutable'],
      ['/docusaurus/img/logo.svg', /^image\/svg\+xml$/, 'no-cache'],
      ['/docusaurus/fonts/inter.woff2', /^font\/woff2$/, 'no-cache'],
      ['/docusaurus/sitemap.xml', /^(application|text)\/xml(; charset=utf-8)?$/, 'no-cache'],
      ['/docusaurus/data.unknownext', /^application\/octet-stream$/, 'no-cache'],
    ];
    for (const [path, type, cacheControl] of contentTypes) {
      it(`content type and caching of ${path.slice('/docusaurus/'.length)}`, async function () {
        const response = await rawRequest(port, path);
        expect(response.status).to.equal(200);
        expect(header(response, 'content-type')).to.match(type);
        expect(header(response, 'cache-control')).to.equal(cacheControl);
        expect(header(response, 'x-content-type-options')).to.equal('nosniff');
      });
    }

    it('answers 304 to a matching ETag', async function () {
      const first = await rawRequest(port, '/docusaurus/docs/errors/');
      const etag = header(first, 'etag');
      expect(etag).to.match(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
      const second = await rawRequest(port, '/docusaurus/docs/errors/', { headers: { 'If-None-Match': etag } });
      expect(second.status).to.equal(304);
      expect(second.body).to.equal('');
    });

    it('HEAD returns headers without a body', async function () {
      const response = await rawRequest(port, '/docusaurus/assets/js/main.0a1b2c3d.js', { method: 'HEAD' });
      expect(response.status).to.equal(200);
      expect(response.body).to.equal('');
      expect(header(response, 'content-length')).to.equal(String('console.log("main bundle");'.length));
    });

    it('POST is METHOD_NOT_ALLOWED', async function () {
      const response = await rawRequest(port, '/docusaurus/index.html', { method: 'POST' });
      expect(response.status).to.equal(405);
      expect(JSON.parse(response.body).code).to.equal('METHOD_NOT_ALLOWED');
    });

    it('missing file is ROUTE_NOT_FOUND', async function () {
      const response = await rawRequest(port, '/docusaurus/docs/nothing-here');
      expect(response.status).to.equal(404);
      expect(header(response, 'content-type')).to.match(/^application\/problem\+json/);
      expect(JSON.parse(response.body).code).to.equal('ROUTE_NOT_FOUND');
    });

    it('missing build folder is a clear problem', async function () {
      const app = new Koa();
      app.use(errorMiddleware);
      app.use(
        createDocsMiddleware({
          isScalarEnabled: () => true,
          isDocusaurusEnabled: () => true,
          docusaurusBuildDir: join(tempDir, 'not-built'),
          scalarBundlePath: bundlePath,
        }),
      );
      const otherServer = app.listen(0, '127.0.0.1');
      try {
        await new Promise<void>((resolve) => otherServer.once('listening', resolve));
        const otherPort = (otherServer.address() as AddressInfo).port;
        for (const path of ['/docusaurus/', '/docusaurus/index.html']) {
          const response = await rawRequest(otherPort, path);
          expect(response.status, path).to.equal(404);
          const problem = JSON.parse(response.body);
          expect(problem.code, path).to.equal('ROUTE_NOT_FOUND');
          expect(problem.detail, path).to.include('npm run docs:build');
          expect(response.body, path).to.not.include(tempDir);
        }
        // The server keeps serving requests after the failures.
        expect((await rawRequest(otherPort, '/docs')).status).to.equal(200);
      } finally {
        await new Promise<void>((resolve) => otherServer.close(() => resolve()));
      }
    });
  });

  describe('path containment', function () {
    // SECRET_PATH stands for the absolute path of the secret file, which exists only once the tests run.
    const traversalPaths = [
      '/docusaurus/../secret.txt',
      '/docusaurus/../../secret.txt',
      '/docusaurus/assets/../../secret.txt',
      '/docusaurus/./../secret.txt',
      '/docusaurus/%2e%2e/secret.txt',
      '/docusaurus/%2E%2E/secret.txt',
      '/docusaurus/.%2e/secret.txt',
      '/docusaurus/%2e./secret.txt',
      '/docusaurus/..%2fsecret.txt',
      '/docusaurus/..%2Fsecret.txt',
      '/docusaurus/%2e%2e%2fsecret.txt',
      '/docusaurus/assets%2f..%2f..%2fsecret.txt',
      '/docusaurus/..%5csecret.txt',
      '/docusaurus/..%5C..%5Csecret.txt',
      '/docusaurus/..\\secret.txt',
      '/docusaurus/%252e%252e/secret.txt',
      '/docusaurus/%252e%252e%252fsecret.txt',
      '/docusaurus/%25252e%25252e/secret.txt',
      '/docusaurus/SECRET_PATH',
      '/docusaurus/ENCODED_SECRET_PATH',
      '/docusaurus//SECRET_PATH',
      '/docusaurus/index.html%00',
      '/docusaurus/%00../secret.txt',
      '/docusaurus/..%00/secret.txt',
      '/docusaurus/leak.txt',
      '/docusaurus/leakdir/secret.txt',
      '/docusaurus/leakdir/build/../secret.txt',
      '/docusaurus/.hidden',
      '/docusaurus/%2ehidden',
      '/docusaurus/visible-link-to-hidden.txt',
      '/docusaurus/C:%5csecret.txt',
      '/docusaurus/%c0%ae%c0%ae/secret.txt',
      '/docusaurus/%e0%a4%a',
      '/docs/../docusaurus/../secret.txt',
      '/docs/%2e%2e/secret.txt',
    ];

    it('decodes each segment only once', function () {
      expect(parseRequestSegments('/%252e%252e/a')).to.deep.equal(['%2e%2e', 'a']);
      expect(parseRequestSegments('/docs//errors/')).to.deep.equal(['docs', 'errors']);
      expect(parseRequestSegments('/%2e%2e/a')).to.equal(undefined);
      expect(parseRequestSegments('/a%2fb')).to.equal(undefined);
      expect(parseRequestSegments('/a%5cb')).to.equal(undefined);
      expect(parseRequestSegments('/a%00')).to.equal(undefined);
      expect(parseRequestSegments('/%zz')).to.equal(undefined);
    });

    for (const template of traversalPaths) {
      it(`refuses ${template}`, async function () {
        const path = template
          .replace('ENCODED_SECRET_PATH', encodeURIComponent(secretPath))
          .replace('SECRET_PATH', secretPath.replace(/^\//, ''));
        const response = await rawRequest(port, path);
        expect(response.status).to.equal(404);
        expect(response.body).to.not.include(SECRET);
        expect(header(response, 'content-type')).to.match(/^application\/problem\+json/);
        expect(JSON.parse(response.body).code).to.equal('ROUTE_NOT_FOUND');
      });
    }
  });
});

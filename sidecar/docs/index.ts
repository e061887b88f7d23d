// Koa middleware serving the offline documentation: Scalar at /docs and the Docusaurus site at /docusaurus.

import type { Context, Middleware, Next } from 'koa';

import { ApiError } from '../errors.js';
import { ScalarDocs, defaultScalarBundlePath } from './scalar.js';
import { DOCUSAURUS_PREFIX, DocusaurusFiles, defaultDocusaurusBuildDir } from './static-files.js';

export interface DocsMiddlewareOptions {
  /** Read on every request, so a Settings change applies without a restart. */
  isScalarEnabled(): boolean;
  /** Read on every request, so a Settings change applies without a restart. */
  isDocusaurusEnabled(): boolean;
  /** Docusaurus build folder; defaults to `docs-site/build` of the application folder. */
  docusaurusBuildDir?: string;
  /** Scalar standalone bundle; defaults to the one in the installed @scalar/api-reference. */
  scalarBundlePath?: string;
}

const SCALAR_PREFIX = '/docs';

function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Creates the middleware that handles every path under /docs and
 * /docusaurus and passes all other requests on. While a toggle is off, each
 * of its paths fails with 404 DOCS_DISABLED, whatever the method.
 */
export function createDocsMiddleware(options: DocsMiddlewareOptions): Middleware {
  const scalar = new ScalarDocs(options.scalarBundlePath ?? defaultScalarBundlePath());
  const docusaurus = new DocusaurusFiles(options.docusaurusBuildDir ?? defaultDocusaurusBuildDir());

  return async function docsMiddleware(ctx: Context, next: Next): Promise<void> {
    // ctx.path is still percent-encoded, so an encoded slash cannot move a request between the two prefixes.
    const path = ctx.path;
    if (isUnder(path, SCALAR_PREFIX)) {
      if (!options.isScalarEnabled()) {
        throw new ApiError('DOCS_DISABLED', 'The Scalar API reference is turned off in Settings > Local API.');
      }
      requireReadMethod(ctx);
      await scalar.handle(ctx, path);
      return;
    }
    if (isUnder(path, DOCUSAURUS_PREFIX)) {
      if (!options.isDocusaurusEnabled()) {
        throw new ApiError('DOCS_DISABLED', 'The Docusaurus documentation is turned off in Settings > Local API.');
      }
      requireReadMethod(ctx);
      await docusaurus.handle(ctx, path);
      return;
    }
    await next();
  };
}

function requireReadMethod(ctx: Context): void {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    throw new ApiError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on documentation pages; use GET.`, {
      Allow: 'GET, HEAD',
    });
  }
}

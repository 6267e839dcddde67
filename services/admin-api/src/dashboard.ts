import { HttpError } from '@wxp/service-runtime';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Middleware } from 'koa';
import serve from 'koa-static';

/** Where `npm run build` puts the bundled dashboard, from src/ (tests) and dist/ (production) alike. */
export const defaultDashboardDir = resolve(__dirname, '..', 'dist', 'dashboard');

/**
 * The paths of the files the dashboard is made of, exactly as requested. Nothing else in its
 * folder is served, so no other file there (a source map, an editor's backup) is ever public.
 */
export const dashboardPaths: ReadonlySet<string> = new Set([
  '/',
  '/index.html',
  '/app.js',
  '/app.js.LEGAL.txt',
  '/styles.css',
]);

/**
 * The dashboard's static files. Everything it shows comes from /api with the token the user types
 * in, so the page itself needs no credential; it loads nothing from elsewhere.
 */
export function dashboard(dir = defaultDashboardDir): Middleware {
  const files = serve(dir, { index: 'index.html', maxage: 0 });
  return async function serveDashboard(ctx, next) {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (!dashboardPaths.has(ctx.path)) return next();
    if (!existsSync(join(dir, 'index.html')))
      throw new HttpError(
        503,
        'dashboard_not_built',
        'the dashboard is not built: run `npm run build`',
        true,
      );
    ctx.set(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    );
    await files(ctx, next);
  };
}

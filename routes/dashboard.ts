// GET /dashboard: the usage page. Public: it holds no data; its script calls /v1/usage and
// /user/balance with the key the user gives it.
import { Hono } from 'hono';
import page from './dashboard.html';
import type { AppEnv } from './env';

export function dashboard() {
  const app = new Hono<AppEnv>();
  app.get('/', (c) =>
    c.html(page, 200, {
      'cache-control': 'no-cache',
      // The page's own inline script and style only; it talks to this origin alone.
      'content-security-policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'",
    }),
  );
  return app;
}

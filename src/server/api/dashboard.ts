/** Serves the built dashboard (web/dist): `/` is index.html, `/assets/<file>` the hashed bundles. */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** The dashboard's build folder in this checkout. */
export const DEFAULT_DASHBOARD_DIR = resolve(import.meta.dirname, '../../../web/dist');

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
  json: 'application/json',
};
// Only the file names Vite produces: no path separators, so nothing outside assets/ can be named.
const ASSET_NAME = /^[A-Za-z0-9_.-]+\.(js|css|svg|png|woff2|json)$/;

/** Registers `/` and `/assets/:file`; when the build is missing, `/` explains how to build it. */
export function dashboardRoutes(app: FastifyInstance, dir: string): void {
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    const index = join(dir, 'index.html');
    if (!existsSync(index)) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built: run `npm run build:web` (or `npm start`, which builds it when missing).');
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(readFileSync(index));
  });
  app.get<{ Params: { file: string } }>(
    '/assets/:file',
    { config: { public: true }, schema: { hide: true } },
    async (req, reply) => {
      const name = req.params.file;
      const m = ASSET_NAME.exec(name);
      const file = join(dir, 'assets', name);
      if (!m || name.startsWith('.') || !existsSync(file)) {
        return reply.code(404).send({ error: 'not_found', message: `no asset ${name}` });
      }
      // Hashed names never change content: cache them for a year.
      return reply
        .type(TYPES[m[1]])
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(await readFile(file));
    },
  );
}

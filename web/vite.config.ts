import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// The dashboard builds to static files that the runtime's server serves from web/dist.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: { outDir: resolve(import.meta.dirname, 'dist'), emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  oxc: { jsx: { runtime: 'automatic' } },
});

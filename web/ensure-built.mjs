// `npm start` runs this first: builds the dashboard into web/dist when it is missing (or older than its sources).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const web = import.meta.dirname;
const index = join(web, 'dist', 'index.html');

function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

if (!existsSync(index) || statSync(index).mtimeMs < newest(join(web, 'src'))) {
  let build;
  try {
    ({ build } = await import('vite'));
  } catch {
    console.error('the dashboard is not built and vite is not installed: run `npm install`, then `npm run build:web`');
    process.exit(0); // the runtime still starts; `/` explains how to build the dashboard
  }
  console.error('building the dashboard (web/dist)...');
  await build({ configFile: join(web, 'vite.config.ts'), logLevel: 'warn' });
}

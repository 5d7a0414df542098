/** Starts the exchange simulator in a process of its own (bench/simulator-process.ts) for benchmarks that time a client. */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimulatorOptions } from '../src/venues/simulator/index.js';

/** The child simulator's base URL; `close` ends the process. */
export async function simulatorProcess(opts: SimulatorOptions): Promise<{ url: string; close: () => void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(dirname(fileURLToPath(import.meta.url)), 'simulator-process.ts'), JSON.stringify(opts)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (b: Buffer) => {
      text += b.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(text.slice(0, nl)) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`simulator process exited with ${code}`)));
  });
  return { url, close: () => child.stdin.end() };
}

/** Starts the exchange simulator in a process of its own (bench/simulator-process.ts) for benchmarks that time a client. */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KrakenSimulatorOptions, SimulatorOptions } from '../src/venues/simulator/index.js';

/** A child simulator: its base URL and credentials; `close` ends the process. */
export interface SimulatorProcess {
  url: string;
  apiKey: string;
  secret: string;
  close: () => void;
}

/** Starts the simulator (its Binance mode, or with `mode: 'kraken'` its Kraken mode) in a process of its own. */
export async function simulatorProcess(
  opts: SimulatorOptions | KrakenSimulatorOptions,
  mode: 'binance' | 'kraken' = 'binance',
): Promise<SimulatorProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(dirname(fileURLToPath(import.meta.url)), 'simulator-process.ts'),
      JSON.stringify(opts),
      mode,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const ready = await new Promise<Omit<SimulatorProcess, 'close'>>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (b: Buffer) => {
      text += b.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(text.slice(0, nl)) as Omit<SimulatorProcess, 'close'>);
    });
    child.once('exit', (code) => reject(new Error(`simulator process exited with ${code}`)));
  });
  return { ...ready, close: () => child.stdin.end() };
}

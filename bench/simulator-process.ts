/**
 * The exchange simulator in a process of its own, for benchmarks that time a client against it: a venue is never
 * in the client's process, and sharing one event loop would bill the simulator's work to the client. Takes the
 * simulator's options as JSON in argv[2] (and `kraken` in argv[3] for the Kraken mode), prints `{"url", "apiKey",
 * "secret"}` on one line once listening, and exits when its stdin closes (the parent ended) or on SIGTERM.
 */
import {
  type KrakenSimulatorOptions,
  type SimulatorOptions,
  startKrakenSimulator,
  startSimulator,
} from '../src/venues/simulator/index.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions & KrakenSimulatorOptions;
const sim = process.argv[3] === 'kraken' ? await startKrakenSimulator(opts) : await startSimulator(opts);
process.stdout.write(`${JSON.stringify({ url: sim.url, apiKey: sim.apiKey, secret: sim.secret })}\n`);
const stop = () => {
  void sim.close().finally(() => process.exit(0));
};
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);

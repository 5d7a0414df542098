import { loadavg } from 'node:os';

/** The 1-minute load average as `load 3.21`, printed beside each figure: the machine is shared. */
export function load1(): string {
  return `load ${loadavg()[0].toFixed(2)}`;
}

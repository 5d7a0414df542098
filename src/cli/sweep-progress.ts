import type { Sweep } from '../scale/sweep.js';
import { ProgressBar } from './progress.js';

/**
 * One progress bar for a distributed sweep, fed by the queue's events from every worker (done, running, failed,
 * ETA), and Ctrl-C cancelling the sweep: its waiting jobs are removed, running ones finish. Returns a detach function.
 */
export function attachSweepProgress(sweep: Sweep, label: string, total: number): () => void {
  const bar = new ProgressBar(label, total);
  sweep.onChange = (c) => bar.update(c.done + c.failed, `${c.running} running ${c.failed} failed`);
  const onInt = () => {
    bar.finish();
    process.stderr.write(`cancelling sweep ${sweep.id}...\n`);
    void sweep
      .cancel()
      .then((n) => {
        process.stderr.write(`sweep ${sweep.id} cancelled: ${n} waiting job${n === 1 ? '' : 's'} removed\n`);
        return sweep.close();
      })
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onInt);
  return () => {
    sweep.onChange = undefined;
    process.removeListener('SIGINT', onInt);
    bar.finish();
  };
}

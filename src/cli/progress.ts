/**
 * A progress bar on stderr for work that may take more than a second. It stays silent for the first second
 * and when stderr is not a terminal (scripts and CI), so quick runs and piped output stay clean.
 */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Reports `done` units finished (and optional detail, e.g. running/failed). Redraws at most ten times a second. */
  update(done: number, detail = ''): void {
    const now = Date.now();
    if (!this.stream.isTTY || now - this.started < 1000 || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.drawn = true;
    const ratio = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = 30;
    const filled = Math.round(ratio * width);
    const elapsed = (now - this.started) / 1000;
    const eta = ratio > 0 ? elapsed / ratio - elapsed : 0;
    this.stream.write(
      `\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0)}% ${done}/${this.total}${detail ? ` ${detail}` : ''} eta ${eta.toFixed(0)}s `,
    );
  }

  /** Clears the bar. */
  finish(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
  }
}

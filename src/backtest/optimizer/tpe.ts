import { SeededRandom } from '../../data/random.js';
import { type ParamSet, type ParamSpace, pointAt, spaceSize } from './space.js';

/** Asks for points one at a time and learns from their scores: the seam between a search loop and a sampler. */
export interface Sampler {
  /** How many points the search evaluates in all. */
  readonly total: number;
  /** The next point to evaluate, or undefined when the search has handed out `total` points. */
  next(): ParamSet | undefined;
  /** The score of a point handed out earlier (null: skipped, failed or undefined — treated as the worst). */
  tell(point: ParamSet, score: number | null): void;
}

/** A fixed list of points (grid, random). */
export class ListSampler implements Sampler {
  private i = 0;
  constructor(private readonly points: readonly ParamSet[]) {}
  /** Number of points in the list. */
  get total(): number {
    return this.points.length;
  }
  /** The next point of the list. */
  next(): ParamSet | undefined {
    return this.points[this.i++];
  }
  /** A list does not learn. */
  tell(): void {}
}

/** Options of the TPE sampler. */
export interface TpeOptions {
  readonly space: ParamSpace;
  /** Evaluation budget (capped at the size of the space). */
  readonly trials: number;
  readonly direction: 'max' | 'min';
  readonly seed?: number;
  /** Uniform random points before the model is used (default max(8, 10 % of the budget), at most 25). */
  readonly startup?: number;
  /** Candidates drawn from the good-points density per proposal (default 24). */
  readonly candidates?: number;
}

interface Observation {
  readonly idx: readonly number[];
  readonly loss: number;
}

/**
 * Tree-structured Parzen estimator over the grid of a discrete space (Bergstra et al. 2011). The evaluated points
 * are split into the best γ share ("good") and the rest; per axis, a Parzen density over value positions is built
 * for each group (Gaussian kernels for numeric axes, smoothed counts for the others). Candidates are drawn from the
 * good density and the one with the highest good/bad density ratio is proposed. Points are never proposed twice.
 * Deterministic for a seed when results are told in the order points were handed out (one trial at a time); with
 * several in flight the order results arrive in changes later proposals.
 */
export class TpeSampler implements Sampler {
  readonly total: number;
  private readonly rng: SeededRandom;
  private readonly startup: number;
  private readonly candidates: number;
  private readonly sizes: number[];
  private readonly numeric: boolean[];
  private readonly seen = new Set<number>();
  private readonly keyOf = new Map<string, number[]>();
  private readonly obs: Observation[] = [];
  private handed = 0;

  constructor(private readonly opts: TpeOptions) {
    const n = spaceSize(opts.space);
    this.total = Math.min(opts.trials, n);
    this.rng = new SeededRandom(opts.seed ?? 1);
    this.startup = opts.startup ?? Math.min(25, Math.max(8, Math.ceil(this.total * 0.1)));
    this.candidates = opts.candidates ?? 24;
    this.sizes = opts.space.map((a) => a.values.length);
    this.numeric = opts.space.map((a) => a.values.every((v) => typeof v === 'number'));
  }

  /** A random point at first, then the best of the candidates drawn from the good density. */
  next(): ParamSet | undefined {
    if (this.handed >= this.total) return undefined;
    const idx = this.obs.length < this.startup ? this.randomUnseen() : this.propose();
    this.handed++;
    const flat = this.flat(idx);
    this.seen.add(flat);
    const point = pointAt(this.opts.space, flat);
    this.keyOf.set(JSON.stringify(point), idx);
    return point;
  }

  /** Records a score; higher is better for `max`, lower for `min`; null ranks last. */
  tell(point: ParamSet, score: number | null): void {
    const idx = this.keyOf.get(JSON.stringify(point));
    if (!idx) return;
    const loss = score === null ? Number.POSITIVE_INFINITY : this.opts.direction === 'max' ? -score : score;
    this.obs.push({ idx, loss });
  }

  private flat(idx: readonly number[]): number {
    let f = 0;
    for (let a = 0; a < idx.length; a++) f = f * this.sizes[a] + idx[a];
    return f;
  }

  private randomUnseen(): number[] {
    const n = spaceSize(this.opts.space);
    // The budget is capped at the space size, so an unseen point exists; rejection is cheap while the space is sparse.
    for (let tries = 0; tries < 64; tries++) {
      const f = Math.floor(this.rng.next() * n);
      if (!this.seen.has(f)) return this.unflat(f);
    }
    for (let f = 0; f < n; f++) if (!this.seen.has(f)) return this.unflat(f);
    return this.unflat(0);
  }

  private unflat(f: number): number[] {
    const idx = new Array<number>(this.sizes.length);
    let rest = f;
    for (let a = this.sizes.length - 1; a >= 0; a--) {
      idx[a] = rest % this.sizes[a];
      rest = Math.floor(rest / this.sizes[a]);
    }
    return idx;
  }

  private propose(): number[] {
    const sorted = [...this.obs].sort((x, y) => x.loss - y.loss);
    const nGood = Math.max(1, Math.min(25, Math.ceil(0.15 * sorted.length)));
    const good = sorted.slice(0, nGood);
    const bad = sorted.slice(nGood);
    const lDens = this.sizes.map((_, a) =>
      this.density(
        a,
        good.map((o) => o.idx[a]),
      ),
    );
    const gDens = this.sizes.map((_, a) =>
      this.density(
        a,
        bad.map((o) => o.idx[a]),
      ),
    );
    let best: number[] | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < this.candidates; c++) {
      const idx = lDens.map((d) => this.draw(d));
      if (this.seen.has(this.flat(idx))) continue;
      let s = 0;
      for (let a = 0; a < idx.length; a++) s += Math.log(lDens[a][idx[a]]) - Math.log(gDens[a][idx[a]]);
      if (s > bestScore) {
        bestScore = s;
        best = idx;
      }
    }
    return best ?? this.randomUnseen();
  }

  /** Probability of each value position of axis `a` given observed positions (a uniform prior keeps it > 0). */
  private density(a: number, at: readonly number[]): Float64Array {
    const k = this.sizes[a];
    const p = new Float64Array(k).fill(1 / k);
    if (at.length > 0) {
      if (this.numeric[a]) {
        // Bandwidth shrinks as evidence grows, never below one grid step.
        const sigma = Math.max(1, (k / 4) * at.length ** -0.5);
        for (const x of at) for (let i = 0; i < k; i++) p[i] += Math.exp(-0.5 * ((i - x) / sigma) ** 2);
      } else {
        for (const x of at) p[x] += 1;
      }
    }
    let sum = 0;
    for (let i = 0; i < k; i++) sum += p[i];
    for (let i = 0; i < k; i++) p[i] /= sum;
    return p;
  }

  private draw(p: Float64Array): number {
    let u = this.rng.next();
    for (let i = 0; i < p.length; i++) {
      u -= p[i];
      if (u <= 0) return i;
    }
    return p.length - 1;
  }
}

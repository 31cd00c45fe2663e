/**
 * The One Euro filter (Casiez, Roussel, Vogel, CHI 2012): a low-pass filter whose cutoff rises
 * with the signal's speed, so a still head's jitter is smoothed away while a moving head is
 * followed with little lag. Time in seconds.
 */
export class OneEuroFilter {
  private x: number | null = null;
  private dx = 0;
  private t = 0;

  constructor(
    /** Cutoff (Hz) when still: lower means smoother and laggier. */
    readonly minCutoff = 1,
    /** How much the cutoff grows with speed (per unit of the signal per second). */
    readonly beta = 0,
    /** Cutoff (Hz) of the speed estimate. */
    readonly dCutoff = 1,
  ) {}

  private static alpha(cutoff: number, dt: number): number {
    const tau = 1 / (2 * Math.PI * cutoff);
    return 1 / (1 + tau / dt);
  }

  get value(): number | null {
    return this.x;
  }

  filter(x: number, t: number): number {
    if (this.x === null) {
      this.x = x;
      this.dx = 0;
      this.t = t;
      return x;
    }
    const dt = Math.max(1e-3, t - this.t);
    this.t = t;
    const rawDx = (x - this.x) / dt;
    this.dx += OneEuroFilter.alpha(this.dCutoff, dt) * (rawDx - this.dx);
    const cutoff = this.minCutoff + this.beta * Math.abs(this.dx);
    this.x += OneEuroFilter.alpha(cutoff, dt) * (x - this.x);
    return this.x;
  }

  reset(): void {
    this.x = null;
    this.dx = 0;
  }
}

/**
 * Picks the internal resolution of a neural filter so that it keeps up with the camera:
 * when the recent frame time (median of the last 9) is over budget it steps the resolution down;
 * it steps back up when the level above is predicted (cost ∝ side², which over-predicts the
 * larger sizes: part of a frame's cost is fixed) to fit in UP_FIT of the budget. The fifth in
 * between keeps it from oscillating, whatever the size of the step (a model tier's is 2-3×).
 *
 * Every change is a visible jump in the call (sharper or softer all at once), so changes are
 * made rare: down as soon as the smoothed time is over budget (the frame rate comes first), but
 * up only after `upHoldFrames` frames in a row with room, and never within `cooldownFrames` of
 * the last change. `changes` counts them (the bench reports changes per minute).
 */
/** The share of the budget the level above must be predicted to fit in before the governor steps up. */
export const UP_FIT = 0.8;

export class ResolutionGovernor {
  private typical: number | null = null;
  private sinceChange = 0;
  private roomFor = 0;
  private index: number;
  /** Resolution changes so far (calibration excluded). */
  changes = 0;

  constructor(
    readonly budgetMs = 1000 / 30,
    readonly sides: readonly number[] = [640, 544, 448, 384, 320, 256, 224, 192, 160, 128, 96],
    start = 0,
    readonly settleFrames = 3,
    readonly upHoldFrames = 30,
    readonly cooldownFrames = 60,
  ) {
    this.index = Math.max(0, Math.min(sides.length - 1, start));
  }

  /** The long side the filter should run at now. */
  get maxSide(): number {
    return this.sides[this.index]!;
  }

  get tier(): number {
    return this.index;
  }

  /**
   * Starts from a measurement instead of the top tier: `ms` is one frame's time at long side
   * `side`. Picks the largest side predicted (cost ∝ pixels) to fit the budget, else the
   * smallest, so a slow device does not spend its first seconds on frames it cannot afford.
   */
  calibrate(ms: number, side: number): void {
    let i = this.sides.findIndex((s) => ms * (s / side) ** 2 <= this.budgetMs);
    if (i < 0) i = this.sides.length - 1;
    this.index = i;
    this.typical = null;
    this.recent = [];
    this.sinceChange = 0;
    this.roomFor = 0;
  }

  /** The frame times since the last change, the latest `window` of them. */
  private recent: number[] = [];

  /** Records one frame's filter time (ms); returns true when the resolution changed. */
  record(ms: number): boolean {
    // The median of the last 9 frames, not a running mean: on a shared machine single frames
    // take 5-20x the usual when another process has the core, and one such frame must not
    // move the level (each move is a visible change for the other side of the call).
    this.recent.push(ms);
    if (this.recent.length > 9) this.recent.shift();
    const sorted = [...this.recent].sort((a, b) => a - b);
    this.typical = sorted[Math.floor(sorted.length / 2)]!;
    if (++this.sinceChange < this.settleFrames) return false;
    let next = this.index;
    if (this.typical > this.budgetMs && this.index < this.sides.length - 1) {
      // Cost grows with the pixel count: jump straight to the side that should fit the budget.
      const target = this.maxSide * Math.sqrt(this.budgetMs / this.typical);
      next = this.index + 1;
      while (next < this.sides.length - 1 && this.sides[next]! > target) next++;
    } else if (this.index > 0) {
      // Up only when the level above is predicted to fit with a fifth to spare (so a step of
      // any size, the model tier's too, does not bounce straight back down), and only when the
      // room has lasted: a quiet second on a busy machine is not a reason to jump.
      const up = (this.sides[this.index - 1]! / this.maxSide) ** 2;
      if (this.typical * up <= UP_FIT * this.budgetMs) this.roomFor++;
      else this.roomFor = 0;
      if (this.roomFor >= this.upHoldFrames && this.sinceChange >= this.cooldownFrames) next--;
    } else {
      this.roomFor = 0;
    }
    if (next === this.index) return false;
    this.index = next;
    this.typical = null;
    this.recent = [];
    this.sinceChange = 0;
    this.roomFor = 0;
    this.changes++;
    return true;
  }
}

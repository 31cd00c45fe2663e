/**
 * The puppet avatar, frame by frame: face tracking (BlazeFace when lost, then the face mesh and
 * the iris model on the previous landmarks' region) → measures → rig (smoothed) → the character
 * drawn over a backdrop, at the frame's size. The frame itself is only read by the tracker: what
 * is drawn is a function of the rig state, the character, its colours, the backdrop and the size,
 * never of the frame's pixels (so no pixel of the camera can reach the output). Without a face the
 * character holds its pose briefly, then eases to neutral and idles.
 */
import { DetectorStride } from '../avatar/face-detector';
import { paintScene } from '../avatar/compositor';
import { checkPalette, type CharacterId, type Palette } from '../../shared/puppet';
import { drawCharacter } from '../../shared/puppet-characters';
import { measure, Rig, type Measures, type RigState } from './rig';
import type { FaceTracker } from './tracker';

/** What the puppet stands in front of: a flat colour or the painted scene (never the room). */
export interface PuppetBackdrop {
  kind: 'blur' | 'colour' | 'scene';
  colour: string;
}

export interface PuppetOptions {
  character: CharacterId;
  palette: Palette;
  backdrop: PuppetBackdrop;
  /** The frame budget (ms): tracking runs on every k-th frame so that it costs at most about half of it. */
  budgetMs?: number;
  /** Seconds, for the rig's filters and idling (default: performance.now() / 1000). */
  now?: () => number;
}

/** Tracking may use this share of the frame budget on average; the rig carries the frames between. */
const TRACK_SHARE = 0.6;
const MAX_TRACK_STRIDE = 3;

export class PuppetPainter {
  private readonly out = new OffscreenCanvas(1, 1);
  private readonly scene = new OffscreenCanvas(1, 1);
  private sceneKey = '';
  readonly rig = new Rig();
  readonly stride: DetectorStride;
  private readonly now: () => number;
  /** The last frame's measures (null: no face, or not tracked on this frame). */
  lastMeasures: Measures | null = null;
  /** Time of each stage in the last frame (ms): tracking (0 when skipped) and drawing. */
  readonly lastMs = { track: 0, draw: 0 };
  private lastFace = false;
  /** The long side of the last frame painted (the popup shows it as the resolution). */
  lastSide = 0;

  constructor(private readonly tracker: FaceTracker, private o: PuppetOptions) {
    checkPalette(o.palette);
    this.stride = new DetectorStride(o.budgetMs ?? 1000 / 30, MAX_TRACK_STRIDE, TRACK_SHARE);
    this.now = o.now ?? (() => performance.now() / 1000);
  }

  /** The governor's state for the popup: the character and how often tracking runs. */
  get tier(): string {
    return `${this.o.character}-trk${this.stride.stride}`;
  }

  async paint(frame: ImageBitmap): Promise<ImageBitmap> {
    const W = frame.width, H = frame.height;
    this.lastSide = Math.max(W, H);
    const t0 = performance.now();
    let m: Measures | null = null;
    let tracked = false;
    // between tracked frames the rig keeps the last measures (its filters run on)
    if (this.stride.due()) {
      const face = await this.tracker.track(frame);
      this.stride.record(performance.now() - t0);
      m = face ? measure(face, W, H) : null;
      this.lastFace = face !== null;
      tracked = true;
    } else if (this.lastFace) {
      m = this.lastMeasures;
    }
    if (tracked) this.lastMeasures = m;
    const state = this.rig.update(m, this.now());
    const t1 = performance.now();
    this.lastMs.track = tracked ? t1 - t0 : 0;
    const out = this.draw(state, W, H);
    this.lastMs.draw = performance.now() - t1;
    return out;
  }

  /** The picture for rig state `s` at W×H: backdrop and character, nothing else. */
  draw(s: Readonly<RigState>, W: number, H: number): ImageBitmap {
    if (this.out.width !== W || this.out.height !== H) {
      this.out.width = W;
      this.out.height = H;
    }
    const x = this.out.getContext('2d');
    if (!x) throw new Error('no 2D canvas context in this worker');
    x.setTransform(1, 0, 0, 1, 0, 0);
    const b = this.o.backdrop;
    if (b.kind === 'colour') {
      x.fillStyle = b.colour;
      x.fillRect(0, 0, W, H);
    } else {
      // the scene, also for 'blur': the puppet never shows the room behind the face
      const key = `${W}x${H}${b.colour}`;
      if (key !== this.sceneKey) {
        paintScene(this.scene, W, H, b.colour);
        this.sceneKey = key;
      }
      x.drawImage(this.scene, 0, 0);
    }
    drawCharacter(x, this.o.character, this.o.palette, s, W, H);
    return this.out.transferToImageBitmap();
  }

  dispose(): void {
    this.tracker.dispose();
    for (const c of [this.out, this.scene]) {
      c.width = 1;
      c.height = 1;
    }
    this.sceneKey = '';
  }
}

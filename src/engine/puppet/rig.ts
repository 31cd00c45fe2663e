/**
 * From face landmarks to the puppet's rig: first the face's measures (head rotation, eye and
 * mouth openness, mouth width and smile, brows, gaze), each a ratio of landmark distances so it
 * does not depend on the face's size or place in the frame; then the rig state the character is
 * drawn from, every channel mapped to its range and smoothed by a One Euro filter (a still face's
 * jitter smoothed away, a blink or a turn followed within a frame or two). Without a face the rig
 * eases to a neutral pose and idles (breathing, blinking now and then).
 */
import { OneEuroFilter } from '../avatar/one-euro';
import type { Point } from '../avatar/alignment';
import { LM, point, type TrackedFace } from './tracker';

/** What the landmarks say about the face in one frame. Angles in radians. */
export interface Measures {
  /** + : the face turned towards the image's right. */
  yaw: number;
  /** + : looking up. */
  pitch: number;
  /** + : clockwise in the image. */
  roll: number;
  /** Eye aspect ratios (lid gap / eye width, width corrected for the head's turn), image-left eye first. */
  eyeL: number;
  eyeR: number;
  /** Lip gap / mouth width (width corrected for the turn). */
  mouth: number;
  /** Mouth width / outer eye-corner distance. */
  wide: number;
  /** Mouth corners above the lips' middle, per mouth width. */
  smile: number;
  /** Brow height above the upper lid, per face height, image-left first. */
  browL: number;
  browR: number;
  /** Iris offset from the eye's centre, per half eye width (x: towards the image's right; y: down). */
  gazeX: number;
  gazeY: number;
  /** Face centre in the frame (fractions) and size (face height / frame height). */
  x: number;
  y: number;
  size: number;
}

/** Eye aspect ratio at or below which an eye counts as closed, above which as open. */
export const EYE_CLOSED_AT = 0.16;
/** Lip gap / mouth width above which a mouth counts as open. */
export const MOUTH_OPEN_AT = 0.16;
/** The rig's ranges: measure value drawn as fully closed (0) and fully open (1). */
const EYE_RANGE = [0.09, 0.23] as const;
const MOUTH_RANGE = [0.04, 0.6] as const;
/** Neutral values and spans, from the people clips' faces at rest (the medians of their measures). */
const WIDE_NEUTRAL = 0.55, WIDE_SPAN = 0.15;
const SMILE_NEUTRAL = 0.02, SMILE_SPAN = 0.1;
const BROW_NEUTRAL = 0.12, BROW_SPAN = 0.04;
const MAX_TURN = 0.8;

type V3 = { x: number; y: number; z: number };
const sub = (a: V3, b: V3): V3 => ({ x: a.x - b.x, y: a.y - b.y, z: a.z - b.z });
const cross = (a: V3, b: V3): V3 => ({ x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x });
const dist = (a: Point, b: Point): number => Math.hypot(a.x - b.x, a.y - b.y);
const clamp = (v: number, lo = 0, hi = 1): number => Math.min(hi, Math.max(lo, v));
const ramp = (v: number, [lo, hi]: readonly [number, number]): number => clamp((v - lo) / (hi - lo));

/** The face's measures from its landmarks (frame pixels) in a W×H frame. */
export function measure(f: TrackedFace, W: number, H: number): Measures {
  const p = (i: number): V3 => point(f.points, i);
  const r = sub(p(LM.cheekR), p(LM.cheekL));
  const u = sub(p(LM.forehead), p(LM.chin));
  const n = cross(r, u); // out of the face, towards the camera: z < 0
  const nl = Math.hypot(n.x, n.y, n.z) || 1;
  const yaw = Math.atan2(n.x / nl, -n.z / nl);
  const pitch = Math.atan2(-n.y / nl, -n.z / nl);
  const roll = Math.atan2(r.y, r.x);
  const turn = Math.max(0.35, Math.cos(yaw));
  // the face's own axes in the image: along the eyes, and down the face
  const ax = { x: Math.cos(roll), y: Math.sin(roll) };
  const down = (a: Point, b: Point): number => (b.x - a.x) * -ax.y + (b.y - a.y) * ax.x;
  const along = (a: Point, b: Point): number => (b.x - a.x) * ax.x + (b.y - a.y) * ax.y;
  const eye = (top: number, bottom: number, a: number, b: number): number => dist(p(top), p(bottom)) / (dist(p(a), p(b)) / turn);
  const mouthW = dist(p(LM.mouthL), p(LM.mouthR));
  const faceH = dist(p(LM.forehead), p(LM.chin)) || 1;
  const lipMid = { x: (p(LM.lipTop).x + p(LM.lipBottom).x) / 2, y: (p(LM.lipTop).y + p(LM.lipBottom).y) / 2 };
  const corners = { x: (p(LM.mouthL).x + p(LM.mouthR).x) / 2, y: (p(LM.mouthL).y + p(LM.mouthR).y) / 2 };
  let gazeX = 0, gazeY = 0;
  if (f.irises) {
    const g = [[LM.eyeOuterL, LM.eyeInnerL], [LM.eyeInnerR, LM.eyeOuterR]].map(([a, b], k) => {
      const A = p(a!), B = p(b!);
      const mid = { x: (A.x + B.x) / 2, y: (A.y + B.y) / 2 };
      const half = dist(A, B) / 2 || 1;
      return { x: along(mid, f.irises![k]!) / half, y: down(mid, f.irises![k]!) / half };
    });
    gazeX = (g[0]!.x + g[1]!.x) / 2;
    gazeY = (g[0]!.y + g[1]!.y) / 2;
  }
  const cx = (p(LM.cheekL).x + p(LM.cheekR).x) / 2, cy = (p(LM.forehead).y + p(LM.chin).y) / 2;
  return {
    yaw, pitch, roll,
    eyeL: eye(LM.eyeTopL, LM.eyeBottomL, LM.eyeOuterL, LM.eyeInnerL),
    eyeR: eye(LM.eyeTopR, LM.eyeBottomR, LM.eyeInnerR, LM.eyeOuterR),
    mouth: dist(p(LM.lipTop), p(LM.lipBottom)) / (mouthW / turn || 1),
    wide: mouthW / (dist(p(LM.eyeOuterL), p(LM.eyeOuterR)) || 1),
    smile: down(corners, lipMid) / (mouthW || 1),
    browL: down(p(LM.browL), p(LM.eyeTopL)) / faceH,
    browR: down(p(LM.browR), p(LM.eyeTopR)) / faceH,
    gazeX, gazeY,
    x: cx / W, y: cy / H, size: faceH / H,
  };
}

/** Whether the measures say both eyes are open / the mouth is open (the input side of the agreement check). */
export const eyesOpen = (m: Measures): boolean => (m.eyeL + m.eyeR) / 2 > EYE_CLOSED_AT;
export const mouthOpen = (m: Measures): boolean => m.mouth > MOUTH_OPEN_AT;

/** What the character is drawn from. Angles in radians; the rest 0-1 or -1..1 as noted. */
export interface RigState {
  yaw: number;
  pitch: number;
  roll: number;
  /** 0 closed, 1 open. */
  eyeL: number;
  eyeR: number;
  /** -1..1 (x: towards the image's right; y: down). */
  gazeX: number;
  gazeY: number;
  /** 0 closed, 1 wide open. */
  mouthOpen: number;
  /** -1 pursed, 1 stretched. */
  mouthWide: number;
  /** -1 frown, 1 smile. */
  smile: number;
  /** -1 lowered, 1 raised. */
  browL: number;
  browR: number;
  /** The head's offset from the frame's centre (fractions of the short side), and breathing 0-1. */
  dx: number;
  dy: number;
  breath: number;
  /** The hair's and the body's own angles (they follow the head's, late). */
  hairYaw: number;
  hairRoll: number;
  bodyYaw: number;
  bodyRoll: number;
  /** Whether a face drives it (false: idling). */
  live: boolean;
}

export const NEUTRAL: Readonly<RigState> = {
  yaw: 0, pitch: 0, roll: 0, eyeL: 1, eyeR: 1, gazeX: 0, gazeY: 0, mouthOpen: 0, mouthWide: 0, smile: 0.15,
  browL: 0, browR: 0, dx: 0, dy: 0, breath: 0, hairYaw: 0, hairRoll: 0, bodyYaw: 0, bodyRoll: 0, live: false,
};

/** The rig's threshold for "eyes open" / "mouth open", the same measure thresholds in rig units. */
export const RIG_EYE_OPEN_AT = (EYE_CLOSED_AT - EYE_RANGE[0]) / (EYE_RANGE[1] - EYE_RANGE[0]);
export const RIG_MOUTH_OPEN_AT = (MOUTH_OPEN_AT - MOUTH_RANGE[0]) / (MOUTH_RANGE[1] - MOUTH_RANGE[0]);
export const rigEyesOpen = (s: RigState): boolean => (s.eyeL + s.eyeR) / 2 > RIG_EYE_OPEN_AT;
export const rigMouthOpen = (s: RigState): boolean => s.mouthOpen > RIG_MOUTH_OPEN_AT;

/** Rig channels fed by measures, and their One Euro settings (min cutoff Hz, beta). */
const CHANNELS = {
  yaw: [1.2, 0.8], pitch: [1.2, 0.8], roll: [1.2, 0.8],
  eyeL: [4, 2], eyeR: [4, 2], gazeX: [1.5, 0.5], gazeY: [1.5, 0.5],
  mouthOpen: [3, 2], mouthWide: [2, 0.5], smile: [2, 0.5], browL: [1.5, 0.5], browR: [1.5, 0.5],
  dx: [1, 1], dy: [1, 1],
} as const satisfies Partial<Record<keyof RigState, readonly [number, number]>>;
type Channel = keyof typeof CHANNELS;

/** The measures mapped to rig units (before smoothing). */
export function rigTarget(m: Measures): Record<Channel, number> {
  return {
    yaw: clamp(m.yaw, -MAX_TURN, MAX_TURN), pitch: clamp(m.pitch, -MAX_TURN, MAX_TURN), roll: clamp(m.roll, -MAX_TURN, MAX_TURN),
    eyeL: ramp(m.eyeL, EYE_RANGE), eyeR: ramp(m.eyeR, EYE_RANGE),
    gazeX: clamp(m.gazeX * 2.2, -1, 1), gazeY: clamp(m.gazeY * 2.2, -1, 1),
    mouthOpen: ramp(m.mouth, MOUTH_RANGE),
    mouthWide: clamp((m.wide - WIDE_NEUTRAL) / WIDE_SPAN, -1, 1),
    smile: clamp((m.smile - SMILE_NEUTRAL) / SMILE_SPAN, -1, 1),
    browL: clamp((m.browL - BROW_NEUTRAL) / BROW_SPAN, -1, 1), browR: clamp((m.browR - BROW_NEUTRAL) / BROW_SPAN, -1, 1),
    dx: clamp((m.x - 0.5) * 0.5, -0.15, 0.15), dy: clamp((m.y - 0.5) * 0.3, -0.1, 0.1),
  };
}

/** A critically damped follower: the hair and the body trail the head. */
class Lag {
  v = 0;
  dv = 0;
  constructor(readonly hz: number) {}
  step(target: number, dt: number): number {
    const w = 2 * Math.PI * this.hz;
    // semi-implicit Euler on x'' = w² (target − x) − 2 w x', in small steps for stability
    const n = Math.max(1, Math.ceil(dt / 0.01));
    const h = dt / n;
    for (let i = 0; i < n; i++) {
      this.dv += (w * w * (target - this.v) - 2 * w * this.dv) * h;
      this.v += this.dv * h;
    }
    return this.v;
  }
}

/** How long the rig keeps a lost face's pose before easing to neutral, and how fast it eases (per s). */
const HOLD_S = 0.4;
const EASE_PER_S = 2.5;
/** Idle blinks: one every this many seconds, lasting BLINK_S. */
const IDLE_BLINK_EVERY_S = 3.7;
const BLINK_S = 0.16;

export class Rig {
  private readonly filters = new Map<Channel, OneEuroFilter>();
  private readonly hair = [new Lag(2.2), new Lag(2.2)];
  private readonly body = [new Lag(1.1), new Lag(1.1)];
  private state: RigState = { ...NEUTRAL };
  private lastT: number | null = null;
  private lostAt: number | null = null;

  constructor() {
    this.resetFilters();
  }

  private resetFilters(): void {
    for (const [k, [mc, b]] of Object.entries(CHANNELS) as [Channel, readonly [number, number]][]) this.filters.set(k, new OneEuroFilter(mc, b, 1));
  }

  get current(): Readonly<RigState> {
    return this.state;
  }

  /** One frame at time `t` (seconds): the measures of the face, or null without one. */
  update(m: Measures | null, t: number): RigState {
    const dt = this.lastT === null ? 1 / 30 : clamp(t - this.lastT, 1e-3, 0.5);
    this.lastT = t;
    const s: RigState = { ...this.state };
    if (m) {
      if (this.lostAt !== null) this.resetFilters(); // a face found again: no smoothing across the gap
      this.lostAt = null;
      const target = rigTarget(m);
      for (const k of Object.keys(CHANNELS) as Channel[]) s[k] = this.filters.get(k)!.filter(target[k], t);
      s.live = true;
    } else {
      this.lostAt ??= t;
      s.live = false;
      if (t - this.lostAt > HOLD_S) {
        // ease every channel to neutral; idle blinks and breathing
        const a = 1 - Math.exp(-EASE_PER_S * dt);
        for (const k of Object.keys(CHANNELS) as Channel[]) s[k] += (NEUTRAL[k] - s[k]) * a;
        const phase = t % IDLE_BLINK_EVERY_S;
        const blink = phase < BLINK_S ? Math.sin((Math.PI * phase) / BLINK_S) : 0;
        s.eyeL = s.eyeR = Math.min(s.eyeL, 1 - blink);
      }
    }
    s.breath = 0.5 + 0.5 * Math.sin(t * 2 * Math.PI * 0.22);
    s.hairYaw = this.hair[0]!.step(s.yaw, dt);
    s.hairRoll = this.hair[1]!.step(s.roll, dt);
    s.bodyYaw = this.body[0]!.step(s.yaw * 0.5, dt);
    s.bodyRoll = this.body[1]!.step(s.roll * 0.4, dt);
    this.state = s;
    return s;
  }
}

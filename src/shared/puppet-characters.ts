/**
 * The puppet's characters, drawn with Canvas 2D paths (nothing rasterised, nothing loaded): a
 * 2D rig whose parts sit at different depths on a rounded head, so a head turn moves the near
 * parts (nose, eyes, mouth, fringe) further than the far ones (ears, back hair) — parallax —
 * while eyes blink and look, the mouth opens, widens and smiles, the brows rise and fall, and
 * the hair and body follow the head late (their angles come from the rig's lagging followers).
 *
 * Drawing space: a portrait square of side S standing on the frame's bottom edge, centred; its
 * units are 1/1300 of S (the head is about 400 wide, a third of the frame's height).
 */
import type { CharacterId, Palette } from './puppet';
import type { RigState } from '../engine/puppet/rig';
export type { RigState };

export { CHARACTERS, DEFAULT_PALETTES, checkPalette, type CharacterId, type Palette } from './puppet';

/** `c` made lighter (t > 0) or darker (t < 0), t in -1..1. */
export function shade(c: string, t: number): string {
  const n = parseInt(c.slice(1), 16);
  const ch = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.round(t >= 0 ? v + (255 - v) * t : v * (1 + t)));
  return `rgb(${ch[0]},${ch[1]},${ch[2]})`;
}

type Ctx = OffscreenCanvasRenderingContext2D;

/** Projects head-space points (x right, y down, z towards the viewer) through the head's turn. */
class Head {
  private readonly cy: number;
  private readonly sy: number;
  private readonly cp: number;
  private readonly sp: number;
  constructor(yaw: number, pitch: number) {
    this.cy = Math.cos(yaw);
    this.sy = Math.sin(yaw);
    this.cp = Math.cos(pitch);
    this.sp = Math.sin(pitch);
  }
  /** [x, y] on screen (head space, before the roll) of the point (x, y, z). */
  p(x: number, y: number, z: number): [number, number] {
    const x1 = x * this.cy + z * this.sy;
    const z1 = z * this.cy - x * this.sy;
    return [x1, y * this.cp - z1 * this.sp];
  }
  /** Horizontal squash of a part facing the viewer. */
  get squash(): number {
    return Math.max(0.35, this.cy);
  }
}

function ellipse(x: Ctx, cx: number, cy: number, rx: number, ry: number, fill: string, rot = 0): void {
  x.beginPath();
  x.ellipse(cx, cy, Math.max(0.1, rx), Math.max(0.1, ry), rot, 0, 2 * Math.PI);
  x.fillStyle = fill;
  x.fill();
}

/** One eye at head-space (ex, ey): white, iris following the gaze, lids closing with `open`. */
function eye(x: Ctx, h: Head, ex: number, ey: number, open: number, s: RigState, colour: string, lash: string, big: number): void {
  const [cx, cy] = h.p(ex, ey, 110);
  const rx = 34 * big * h.squash;
  const ry = 30 * big;
  const o = Math.max(0, Math.min(1, open));
  if (o < 0.12) {
    // closed: the lash line, curved like a smile
    x.beginPath();
    x.moveTo(cx - rx, cy);
    x.quadraticCurveTo(cx, cy + 10 * big, cx + rx, cy);
    x.lineWidth = 5 * big;
    x.strokeStyle = lash;
    x.lineCap = 'round';
    x.stroke();
    return;
  }
  x.save();
  x.beginPath();
  x.ellipse(cx, cy + ry * (1 - o) * 0.35, rx, ry * (0.25 + 0.75 * o), 0, 0, 2 * Math.PI);
  x.fillStyle = '#fbfbf8';
  x.fill();
  x.clip();
  const ix = cx + s.gazeX * rx * 0.45;
  const iy = cy + s.gazeY * ry * 0.35 + 2;
  ellipse(x, ix, iy, 20 * big * h.squash, 22 * big, colour);
  ellipse(x, ix, iy + 2, 10 * big * h.squash, 12 * big, '#141018');
  ellipse(x, ix - 7 * big, iy - 8 * big, 6 * big, 6 * big, 'rgba(255,255,255,0.9)');
  x.restore();
  // upper lid line
  x.beginPath();
  x.ellipse(cx, cy + ry * (1 - o) * 0.35, rx + 2, ry * (0.25 + 0.75 * o) + 1, 0, Math.PI * 1.08, Math.PI * 1.92);
  x.lineWidth = 6 * big;
  x.strokeStyle = lash;
  x.lineCap = 'round';
  x.stroke();
}

function brow(x: Ctx, h: Head, bx: number, by: number, raise: number, side: -1 | 1, colour: string): void {
  const lift = -raise * 22;
  // a frown pulls the inner ends down further (bx − 34·side is the end nearer the nose)
  const [x0, y0] = h.p(bx - 34 * side, by + lift + 6 + Math.max(0, -raise) * 14, 100);
  const [x1, y1] = h.p(bx, by + lift - 6, 108);
  const [x2, y2] = h.p(bx + 30 * side, by + lift + 2 - raise * 4, 100);
  x.beginPath();
  x.moveTo(x0, y0);
  x.quadraticCurveTo(x1, y1, x2, y2);
  x.lineWidth = 11;
  x.lineCap = 'round';
  x.strokeStyle = colour;
  x.stroke();
}

function mouth(x: Ctx, h: Head, my: number, s: RigState, lip: string): void {
  const [cx, cy] = h.p(0, my, 120);
  const open = Math.max(0, s.mouthOpen);
  const w = (36 + 12 * s.mouthWide + 6 * Math.max(0, s.smile) + 10 * open) * h.squash;
  const curve = 14 * s.smile;
  x.lineJoin = 'round';
  x.lineCap = 'round';
  if (open < 0.06) {
    x.beginPath();
    x.moveTo(cx - w, cy - curve * 0.6);
    x.quadraticCurveTo(cx, cy + curve, cx + w, cy - curve * 0.6);
    x.lineWidth = 6;
    x.strokeStyle = lip;
    x.stroke();
    return;
  }
  const gap = 8 + 44 * open;
  x.beginPath();
  x.moveTo(cx - w, cy - curve * 0.6);
  x.quadraticCurveTo(cx, cy - 4 + curve * 0.4, cx + w, cy - curve * 0.6);
  x.quadraticCurveTo(cx + w * 0.7, cy + gap, cx, cy + gap);
  x.quadraticCurveTo(cx - w * 0.7, cy + gap, cx - w, cy - curve * 0.6);
  x.closePath();
  x.fillStyle = '#5a1e2a';
  x.fill();
  x.save();
  x.clip();
  ellipse(x, cx, cy + gap * 0.95, w * 0.6, gap * 0.45, '#e0737f');
  x.fillStyle = '#ffffff';
  x.fillRect(cx - w, cy - 12, 2 * w, 9 + 2 * s.smile);
  x.restore();
  x.lineWidth = 5;
  x.strokeStyle = lip;
  x.stroke();
}

/** The body: neck and shoulders, turning and leaning with the body's lagging angles. */
function body(x: Ctx, s: RigState, skin: string, shirt: string, collar: string): void {
  x.save();
  x.translate(0, 250);
  x.rotate(s.bodyRoll);
  const t = Math.sin(s.bodyYaw) * 40;
  const rise = -6 * s.breath;
  ellipse(x, t * 0.3, -40, 62, 90, shade(skin, -0.12)); // neck
  x.beginPath();
  x.moveTo(-330 + t, 260);
  x.bezierCurveTo(-320 + t, 90 + rise, -200 + t, 40 + rise, -70 + t * 0.6, 20 + rise);
  x.lineTo(70 + t * 0.6, 20 + rise);
  x.bezierCurveTo(200 + t, 40 + rise, 320 + t, 90 + rise, 330 + t, 260);
  x.closePath();
  x.fillStyle = shirt;
  x.fill();
  x.beginPath();
  x.moveTo(-70 + t * 0.6, 20 + rise);
  x.quadraticCurveTo(t * 0.6, 95 + rise, 70 + t * 0.6, 20 + rise);
  x.lineWidth = 14;
  x.strokeStyle = collar;
  x.stroke();
  x.restore();
}

function mika(x: Ctx, s: RigState, c: Palette): void {
  const h = new Head(s.yaw, s.pitch);
  const hairHead = new Head(s.hairYaw, s.pitch * 0.8);
  const hairDark = shade(c.hair, -0.25);
  // back hair: a bob behind the head, swinging with the lagging hair angle
  x.save();
  x.rotate(s.hairRoll - s.roll);
  const [bx] = hairHead.p(0, 0, -120);
  x.beginPath();
  x.moveTo(bx - 250, 170);
  x.bezierCurveTo(bx - 290, -80, bx - 200, -270, bx, -272);
  x.bezierCurveTo(bx + 200, -270, bx + 290, -80, bx + 250, 170);
  x.quadraticCurveTo(bx, 215, bx - 250, 170);
  x.fillStyle = hairDark;
  x.fill();
  x.restore();
  // ears
  for (const side of [-1, 1] as const) {
    const [ex, ey] = h.p(190 * side, 10, -10);
    ellipse(x, ex, ey, 26, 40, shade(c.skin, -0.08));
  }
  // face
  const [fx] = h.p(0, 0, 60);
  x.beginPath();
  x.moveTo(fx - 195, -40);
  x.bezierCurveTo(fx - 200, -260, fx + 200, -260, fx + 195, -40);
  x.bezierCurveTo(fx + 185, 110, fx + 80, 205, fx, 210);
  x.bezierCurveTo(fx - 80, 205, fx - 185, 110, fx - 195, -40);
  x.fillStyle = c.skin;
  x.fill();
  // cheeks
  for (const side of [-1, 1] as const) {
    const [qx, qy] = h.p(105 * side, 70, 90);
    ellipse(x, qx, qy, 34 * h.squash, 18, 'rgba(240,120,120,0.28)');
  }
  eye(x, h, -80, 0, s.eyeL, s, c.eyes, '#2b1d26', 1);
  eye(x, h, 80, 0, s.eyeR, s, c.eyes, '#2b1d26', 1);
  brow(x, h, -80, -62, s.browL, -1, hairDark);
  brow(x, h, 80, -62, s.browR, 1, hairDark);
  // nose
  const [nx, ny] = h.p(0, 62, 150);
  x.beginPath();
  x.moveTo(nx - 4, ny - 24);
  x.quadraticCurveTo(nx + 10, ny, nx - 6, ny + 6);
  x.lineWidth = 5;
  x.strokeStyle = shade(c.skin, -0.3);
  x.lineCap = 'round';
  x.stroke();
  mouth(x, h, 122, s, '#b4505c');
  // fringe: in front of the forehead, swinging a little with the hair
  const [gx, gy] = hairHead.p(0, -150, 90);
  x.beginPath();
  x.moveTo(gx - 215, gy + 120);
  x.bezierCurveTo(gx - 230, gy - 120, gx + 230, gy - 120, gx + 215, gy + 120);
  x.quadraticCurveTo(gx + 170, gy + 40, gx + 120, gy + 60);
  x.quadraticCurveTo(gx + 60, gy + 20, gx + 10, gy + 70);
  x.quadraticCurveTo(gx - 50, gy + 20, gx - 110, gy + 60);
  x.quadraticCurveTo(gx - 170, gy + 40, gx - 215, gy + 120);
  x.fillStyle = c.hair;
  x.fill();
  ellipse(x, gx - 60, gy - 40, 60, 14, 'rgba(255,255,255,0.18)', -0.3);
}

function kit(x: Ctx, s: RigState, c: Palette): void {
  const h = new Head(s.yaw, s.pitch);
  const earHead = new Head(s.hairYaw, s.pitch);
  const fur = c.hair;
  // ears, behind the head, leaning with the lagging hair angle
  for (const side of [-1, 1] as const) {
    x.save();
    const [ex, ey] = earHead.p(120 * side, -170, -40);
    x.translate(ex, ey);
    x.rotate(0.35 * side + (s.hairRoll - s.roll) * 0.8);
    x.beginPath();
    x.moveTo(-70, 40);
    x.quadraticCurveTo(-20, -150, 0, -170);
    x.quadraticCurveTo(20, -150, 70, 40);
    x.closePath();
    x.fillStyle = fur;
    x.fill();
    x.beginPath();
    x.moveTo(-38, 20);
    x.quadraticCurveTo(-10, -100, 0, -118);
    x.quadraticCurveTo(10, -100, 38, 20);
    x.closePath();
    x.fillStyle = shade(fur, -0.45);
    x.fill();
    x.restore();
  }
  // head: a wide fox face with cheek tufts
  const [fx] = h.p(0, 0, 60);
  x.beginPath();
  x.moveTo(fx, -215);
  x.bezierCurveTo(fx + 170, -215, fx + 215, -90, fx + 230, 40);
  x.lineTo(fx + 200, 80);
  x.lineTo(fx + 215, 110);
  x.bezierCurveTo(fx + 140, 180, fx + 70, 200, fx, 205);
  x.bezierCurveTo(fx - 70, 200, fx - 140, 180, fx - 215, 110);
  x.lineTo(fx - 200, 80);
  x.lineTo(fx - 230, 40);
  x.bezierCurveTo(fx - 215, -90, fx - 170, -215, fx, -215);
  x.fillStyle = fur;
  x.fill();
  // pale muzzle and cheeks (the "skin" colour)
  const [mx, my] = h.p(0, 95, 110);
  x.beginPath();
  x.moveTo(mx - 190 * h.squash, my - 40);
  x.bezierCurveTo(mx - 120 * h.squash, my - 95, mx - 40, my - 60, mx, my - 70);
  x.bezierCurveTo(mx + 40, my - 60, mx + 120 * h.squash, my - 95, mx + 190 * h.squash, my - 40);
  x.bezierCurveTo(mx + 120, my + 90, mx - 120, my + 90, mx - 190 * h.squash, my - 40);
  x.fillStyle = c.skin;
  x.fill();
  eye(x, h, -88, -10, s.eyeL, s, c.eyes, '#20160f', 1.05);
  eye(x, h, 88, -10, s.eyeR, s, c.eyes, '#20160f', 1.05);
  brow(x, h, -88, -72, s.browL, -1, shade(fur, -0.4));
  brow(x, h, 88, -72, s.browR, 1, shade(fur, -0.4));
  // nose: a dark button far in front
  const [nx, ny] = h.p(0, 62, 170);
  ellipse(x, nx, ny, 24 * h.squash, 16, '#2a1a14');
  ellipse(x, nx - 6, ny - 6, 7, 4, 'rgba(255,255,255,0.5)');
  mouth(x, h, 112, s, '#5c3222');
  // whiskers
  x.lineWidth = 3;
  x.strokeStyle = 'rgba(60,40,30,0.55)';
  for (const side of [-1, 1] as const) {
    for (const k of [-1, 0, 1]) {
      const [ax, ay] = h.p(70 * side, 90 + 14 * k, 130);
      const [bx2, by2] = h.p(200 * side, 80 + 30 * k, 90);
      x.beginPath();
      x.moveTo(ax, ay);
      x.lineTo(bx2, by2);
      x.stroke();
    }
  }
  // forehead tuft in front, lagging
  const [tx, ty] = earHead.p(0, -190, 90);
  x.beginPath();
  x.moveTo(tx - 70, ty + 10);
  x.quadraticCurveTo(tx - 20, ty - 40, tx + 10, ty - 20);
  x.quadraticCurveTo(tx + 40, ty - 45, tx + 70, ty + 10);
  x.quadraticCurveTo(tx, ty + 40, tx - 70, ty + 10);
  x.fillStyle = shade(fur, 0.12);
  x.fill();
}

/** Where the character stands: the portrait square (side S, left, top) in a W×H frame. */
export function stage(W: number, H: number): { S: number; left: number; top: number } {
  const S = Math.min(W, H);
  return { S, left: (W - S) / 2, top: H - S };
}

/**
 * Draws `character` in pose `s` over whatever `x` holds (the caller paints the backdrop): the
 * head at its tracked offset, turned by the roll; body and hair from their lagging angles.
 */
export function drawCharacter(x: Ctx, character: CharacterId, c: Palette, s: RigState, W: number, H: number): void {
  const { S, left, top } = stage(W, H);
  const k = (1.3 * S) / 1000;
  x.save();
  x.translate(left + S / 2 + s.dx * S, top + S * 0.43 + s.dy * S - 4 * k * s.breath);
  x.scale(k, k);
  x.imageSmoothingEnabled = true;
  // the body first, with its own lagging lean; then the head, turned by the roll
  if (character === 'kit') body(x, s, c.hair, shade(c.hair, -0.35), c.skin);
  else body(x, s, c.skin, '#5b7fa8', '#f2f2ee');
  x.save();
  x.rotate(s.roll * 0.9);
  (character === 'kit' ? kit : mika)(x, s, c);
  x.restore();
  x.restore();
}

/**
 * Engine sessions (src/engine/session.ts) when the GPU goes away mid-call: the session moves the
 * painter to the next backend before the next frame and never answers with a picture the lost
 * device made.
 */
import { expect } from '@esm-bundle/chai';
import type { FromEngine, ToEngine } from '../../src/shared/engine-protocol';
import type { Painter } from '../../src/engine/session';
import type { FilterSpec } from '../../src/shared/settings';

type Kit = typeof import('../../src/entries/ml-testkit');
const kitUrl = '/build/ml-testkit.js';
const { tf, useBackend, simulateGpuLoss, lostBackend, serveSession, PaintNet, Stylizer } = (await import(kitUrl)) as Kit;

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 50));
}

const WASM = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';
const STYLE_URL = '/models/style/starry_night/';
const W = 48;
const H = 36;

/** The engine worker's style painter, at a fixed small size. */
async function stylePainter(spec: FilterSpec): Promise<Painter> {
  const backend = await useBackend(('backend' in spec && spec.backend) || 'auto', WASM);
  const s = new Stylizer(await PaintNet.load(STYLE_URL), { fixedMaxSide: W });
  return { backend: `tfjs-${backend}`, tfBackend: backend, side: () => W, paint: (b) => s.paint(b), dispose: () => s.dispose() };
}

/** The page's end of a session. */
class Client {
  private readonly channel = new MessageChannel();
  private readonly inbox: FromEngine[] = [];
  private wake: (() => void) | null = null;
  private nextId = 1;
  constructor() {
    serveSession(this.channel.port2, stylePainter);
    this.channel.port1.onmessage = (e: MessageEvent<FromEngine>) => {
      this.inbox.push(e.data);
      this.wake?.();
    };
  }
  async receive(timeoutMs = 60_000): Promise<FromEngine> {
    const end = performance.now() + timeoutMs;
    while (!this.inbox.length) {
      if (performance.now() > end) throw new Error('the engine did not answer');
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 100);
      });
    }
    return this.inbox.shift()!;
  }
  send(m: ToEngine, t: Transferable[] = []): void {
    this.channel.port1.postMessage(m, t);
  }
  async frame(): Promise<FromEngine> {
    this.send({ t: 'frame', id: this.nextId++, bitmap: await picture() }, []);
    return this.receive();
  }
}

async function picture(): Promise<ImageBitmap> {
  const data = new Uint8ClampedArray(W * H * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 29) % 256));
  return createImageBitmap(new ImageData(data, W, H));
}

function pixels(b: ImageBitmap): Uint8ClampedArray {
  const c = new OffscreenCanvas(b.width, b.height);
  c.getContext('2d')!.drawImage(b, 0, 0);
  return c.getContext('2d')!.getImageData(0, 0, b.width, b.height).data;
}

const meanAbs = (a: Uint8ClampedArray, b: Uint8ClampedArray): number => {
  let d = 0;
  for (let i = 0; i < a.length; i += 4) for (let c = 0; c < 3; c++) d += Math.abs(a[i + c]! - b[i + c]!);
  return d / (a.length * 0.75);
};

/**
 * Paints on `backend`, loses its GPU, and returns what came back: the answers until the first
 * picture after the loss, and how long that took.
 */
async function loseMidCall(backend: 'webgl' | 'webgpu'): Promise<{ before: Uint8ClampedArray; after: Uint8ClampedArray; afterBackend: string; ms: number; errors: string[] }> {
  await useBackend('wasm', WASM);
  const tensorsBefore = tf.memory().numTensors;
  const c = new Client();
  c.send({ t: 'create', spec: { kind: 'style', id: 'starry_night', backend } });
  const ready = await c.receive();
  expect(ready.t, JSON.stringify(ready)).to.equal('ready');
  expect((ready as { backend: string }).backend).to.equal(`tfjs-${backend}`);
  const first = await c.frame();
  if (first.t !== 'out') throw new Error(JSON.stringify(first));
  expect(first.backend).to.equal(`tfjs-${backend}`);
  const before = pixels(first.bitmap);
  first.bitmap.close();

  expect(simulateGpuLoss(), 'the backend that lost its GPU').to.equal(backend);
  expect(lostBackend()).to.equal(backend);
  const t0 = performance.now();
  const errors: string[] = [];
  for (let i = 0; i < 5; i++) {
    const m = await c.frame();
    if (m.t === 'error') {
      errors.push(m.message);
      continue;
    }
    if (m.t !== 'out') throw new Error(JSON.stringify(m));
    const after = pixels(m.bitmap);
    m.bitmap.close();
    c.send({ t: 'dispose' });
    await until(() => tf.memory().numTensors === tensorsBefore, 5000);
    expect(tf.memory().numTensors, 'the lost painter and the new one both let go of their tensors').to.equal(tensorsBefore);
    return { before, after, afterBackend: m.backend, ms: performance.now() - t0, errors };
  }
  throw new Error(`no picture after the loss: ${errors.join(' | ')}`);
}

describe('engine session: GPU lost mid-call', function () {
  this.timeout(180_000);

  it('WebGL context lost: rebuilt on WASM before the next frame, same picture', async () => {
    const r = await loseMidCall('webgl');
    console.log('webgl lost → %s in %d ms; errors: %s', r.afterBackend, Math.round(r.ms), r.errors.join(' | ') || 'none');
    expect(r.afterBackend).to.equal('tfjs-wasm');
    expect(r.errors, 'no frame is lost to it').to.deep.equal([]);
    expect(meanAbs(r.before, r.after), 'the same style on the new backend').to.be.below(2);
    expect(tf.getBackend()).to.equal('wasm');
    // WebGL is never picked again in this engine.
    expect(await useBackend('webgl', WASM)).to.equal('wasm');
  });

  it('WebGPU device destroyed: rebuilt off WebGPU, same picture', async function () {
    if (!(navigator as Navigator & { gpu?: unknown }).gpu) this.skip();
    const r = await loseMidCall('webgpu');
    console.log('webgpu lost → %s in %d ms; errors: %s', r.afterBackend, Math.round(r.ms), r.errors.join(' | ') || 'none');
    expect(r.afterBackend).to.not.equal('tfjs-webgpu');
    expect(r.errors.length, 'at most the frame in flight is lost').to.be.at.most(1);
    expect(meanAbs(r.before, r.after)).to.be.below(2);
  });

  it('a painter that cannot be rebuilt: every frame is an error naming the cause, never a picture', async () => {
    const channel = new MessageChannel();
    let lost: string | null = null;
    let builds = 0;
    serveSession(channel.port2, async () => {
      if (builds++ > 0) throw new Error('no backend left');
      return stylePainter({ kind: 'style', id: 'starry_night', backend: 'wasm' });
    }, { lostBackend: () => lost, markLost: () => {} });
    const inbox: FromEngine[] = [];
    channel.port1.onmessage = (e: MessageEvent<FromEngine>) => inbox.push(e.data);
    const next = async (): Promise<FromEngine> => {
      const end = performance.now() + 60_000;
      while (!inbox.length && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
      return inbox.shift()!;
    };
    channel.port1.postMessage({ t: 'create', spec: { kind: 'style', id: 'starry_night' } } satisfies ToEngine);
    expect((await next()).t).to.equal('ready');
    lost = 'webgl';
    const msgs: FromEngine[] = [];
    for (let id = 1; id <= 3; id++) {
      channel.port1.postMessage({ t: 'frame', id, bitmap: await picture() } satisfies ToEngine);
      msgs.push(await next());
      lost = null;
    }
    expect(msgs.map((m) => m.t)).to.deep.equal(['error', 'error', 'error']);
    expect((msgs[0] as { message: string }).message).to.match(/webgl was lost and the filter could not be rebuilt: no backend left/);
    expect((msgs[1] as { message: string }).message).to.match(/no filter in this session/);
    channel.port1.postMessage({ t: 'dispose' } satisfies ToEngine);
  });

  it('a paint that never settles once the device is gone is abandoned as soon as the loss shows', async () => {
    const channel = new MessageChannel();
    let lost: string | null = null;
    let builds = 0;
    serveSession(channel.port2, async (): Promise<Painter> => {
      const n = ++builds;
      return {
        backend: `fake-${n}`,
        tfBackend: 'wasm',
        side: () => 8,
        // The first painter hangs (a fence a lost context never signals); the next one paints.
        paint: (b) => (n === 1 ? new Promise<ImageBitmap>(() => {}) : createImageBitmap(b)),
        dispose: () => {},
      };
    }, { lostBackend: () => lost, markLost: () => (lost = null), lossPollMs: 20 });
    const inbox: FromEngine[] = [];
    channel.port1.onmessage = (e: MessageEvent<FromEngine>) => inbox.push(e.data);
    const next = async (): Promise<FromEngine> => {
      const end = performance.now() + 10_000;
      while (!inbox.length && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
      if (!inbox.length) throw new Error('no answer');
      return inbox.shift()!;
    };
    channel.port1.postMessage({ t: 'create', spec: { kind: 'style', id: 'x' } } satisfies ToEngine);
    expect((await next()).t).to.equal('ready');
    channel.port1.postMessage({ t: 'frame', id: 1, bitmap: await picture() } satisfies ToEngine);
    await new Promise((r) => setTimeout(r, 200));
    expect(inbox.length, 'the hung paint has not answered').to.equal(0);
    const t0 = performance.now();
    lost = 'webgl';
    const a = await next();
    expect(a.t).to.equal('error');
    expect((a as { message: string }).message).to.match(/webgl was lost while painting; rebuilt on fake-2/);
    expect(performance.now() - t0, 'answered within a few polls').to.be.below(2000);
    channel.port1.postMessage({ t: 'frame', id: 2, bitmap: await picture() } satisfies ToEngine);
    const b = await next();
    expect(b.t).to.equal('out');
    expect((b as { backend: string }).backend).to.equal('fake-2');
    (b as { bitmap: ImageBitmap }).bitmap.close();
    channel.port1.postMessage({ t: 'dispose' } satisfies ToEngine);
  });

  it('a device lost while the filter loads: loading moves to the next backend and the session gets ready', async () => {
    const channel = new MessageChannel();
    let lost: string | null = null;
    const marked: string[] = [];
    let builds = 0;
    serveSession(channel.port2, (): Promise<Painter> => {
      const n = ++builds;
      const painter: Painter = { backend: `fake-${n}`, tfBackend: 'wasm', side: () => 8, paint: (b) => createImageBitmap(b), dispose: () => {} };
      // The first load hangs on its GPU; the loss then shows.
      if (n === 1) {
        setTimeout(() => (lost = 'webgpu'), 100);
        return new Promise<Painter>(() => {});
      }
      return Promise.resolve(painter);
    }, { lostBackend: () => lost, markLost: (n) => { marked.push(n); lost = null; }, lossPollMs: 20 });
    const inbox: FromEngine[] = [];
    channel.port1.onmessage = (e: MessageEvent<FromEngine>) => inbox.push(e.data);
    channel.port1.postMessage({ t: 'create', spec: { kind: 'style', id: 'x' } } satisfies ToEngine);
    const end = performance.now() + 5000;
    while (!inbox.length && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(inbox[0], 'ready on the next backend').to.deep.equal({ t: 'ready', backend: 'fake-2' });
    expect(marked).to.deep.equal(['webgpu']);
    channel.port1.postMessage({ t: 'dispose' } satisfies ToEngine);
  });
});

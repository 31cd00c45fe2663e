/**
 * PageController in this test page, as the extension's MAIN-world script runs it: it patches
 * getUserMedia and MediaStreamTrack.prototype of this page (each test file has its own page).
 */
import { expect } from '@esm-bundle/chai';
import workerSource from 'virtual:worker-source';
import { createFilter } from '../../src/page/filters/registry';
import { PageController } from '../../src/page/interception/controller';
import type { TrackGroup, TrackRegistry } from '../../src/page/interception/tracks';
import type { PipelineStatus } from '../../src/page/pipeline';
import { maxEdge, meanLuma, pixelsOf, posterizedFraction, sleep, TrackReader, until } from './helpers';

type Gum = (this: MediaDevices, c?: MediaStreamConstraints) => Promise<MediaStream>;

// ---- what the page looked like before Brushcam -------------------------------------------

const MD = MediaDevices.prototype;
const TP = MediaStreamTrack.prototype;
const nativeGum = MD.getUserMedia as Gum;
const nativeToString = Function.prototype.toString;
const TRACK_METHODS = ['stop', 'clone', 'getSettings', 'getCapabilities', 'getConstraints', 'applyConstraints'] as const;
const TRACK_GETTERS = ['label', 'muted'] as const;

interface Shape {
  text: string;
  name: string;
  length: number;
  hasPrototype: boolean;
  /** Built-in methods inherit straight from Function.prototype (async functions do not). */
  protoIsFunctionPrototype: boolean;
  descriptor: Omit<PropertyDescriptor, 'value' | 'get' | 'set'>;
}

function shape(fn: Function, owner: object, key: string): Shape {
  const d = Object.getOwnPropertyDescriptor(owner, key)!;
  return {
    // What the page sees: the current Function.prototype.toString.
    text: Function.prototype.toString.call(fn),
    name: fn.name,
    length: fn.length,
    hasPrototype: Object.prototype.hasOwnProperty.call(fn, 'prototype'),
    protoIsFunctionPrototype: Object.getPrototypeOf(fn) === Function.prototype,
    descriptor: { writable: d.writable, enumerable: d.enumerable, configurable: d.configurable },
  };
}

const NP = Navigator.prototype as unknown as Record<string, Function | undefined>;
const nativeLegacy = NP.webkitGetUserMedia;
const nativeLegacyShape = nativeLegacy ? shape(nativeLegacy, NP, 'webkitGetUserMedia') : null;
const getterOf = (key: string): Function => Object.getOwnPropertyDescriptor(TP, key)!.get!;
const nativeShapes = {
  getUserMedia: shape(nativeGum, MD, 'getUserMedia'),
  toString: shape(nativeToString, Function.prototype, 'toString'),
  methods: Object.fromEntries(TRACK_METHODS.map((k) => [k, shape(TP[k] as Function, TP, k)])),
  getters: Object.fromEntries(TRACK_GETTERS.map((k) => [k, shape(getterOf(k), TP, k)])),
};

/** Streams the browser's own getUserMedia returned to Brushcam (a spy installed under it). */
const underlying: MediaStream[] = [];
let rawVideoSettings: MediaTrackSettings;
let rawVideoLabel: string;
let rawAudioLabel: string;
let controller: PageController;
let registry: TrackRegistry;

const readers: TrackReader[] = [];
function reader(t: MediaStreamTrack): TrackReader {
  const r = new TrackReader(t);
  readers.push(r);
  return r;
}
const handedOut: MediaStreamTrack[] = [];
async function gum(c: MediaStreamConstraints): Promise<MediaStream> {
  const s = await navigator.mediaDevices.getUserMedia(c);
  handedOut.push(...s.getTracks());
  return s;
}

/** Timestamp of a frame read now (the reader must deliver one within 5 s). */
async function latestTimestamp(r: TrackReader): Promise<number> {
  const f = await r.next(5000);
  if (!f) throw new Error('no frame');
  const ts = f.timestamp;
  f.close();
  return ts;
}

function groupOf(t: MediaStreamTrack): TrackGroup {
  const g = registry.groups.get(t);
  if (!g) throw new Error('track is not a Brushcam output');
  return g;
}

async function statusOf(g: TrackGroup, cond: (s: PipelineStatus) => boolean, timeoutMs: number): Promise<PipelineStatus | null> {
  let last: PipelineStatus | null = null;
  await until(() => {
    last = g.pipeline.status();
    return last !== null && cond(last);
  }, timeoutMs, 50);
  return last;
}

before(async () => {
  const raw = await nativeGum.call(navigator.mediaDevices, { video: true, audio: true });
  rawVideoSettings = raw.getVideoTracks()[0]!.getSettings();
  rawVideoLabel = raw.getVideoTracks()[0]!.label;
  rawAudioLabel = raw.getAudioTracks()[0]!.label;
  raw.getTracks().forEach((t) => t.stop());
  // Stand in for the browser's getUserMedia so that the tracks it made can be recognised.
  Object.defineProperty(MD, 'getUserMedia', {
    ...Object.getOwnPropertyDescriptor(MD, 'getUserMedia'),
    value: {
      getUserMedia(this: MediaDevices, c?: MediaStreamConstraints) {
        return nativeGum.call(this, c).then((s) => {
          underlying.push(s);
          return s;
        });
      },
    }.getUserMedia,
  });
  controller = new PageController({ workerSource, createFilter });
  registry = (controller as unknown as { registry: TrackRegistry }).registry;
});

// A test that fails half-way must not leave cameras running for the next one.
afterEach(async () => {
  await Promise.all(readers.splice(0).map((r) => r.cancel()));
  for (const t of handedOut.splice(0)) t.stop();
});

describe('PageController', () => {
  describe('disguise', () => {
    it('getUserMedia is replaced and has the shape of the native one', () => {
      const fn = navigator.mediaDevices.getUserMedia;
      expect(fn).to.not.equal(nativeGum);
      expect(MD.getUserMedia).to.equal(fn);
      const n = nativeShapes.getUserMedia;
      expect(String(fn)).to.equal(n.text);
      expect(String(fn)).to.equal('function getUserMedia() { [native code] }');
      expect(Function.prototype.toString.call(fn)).to.equal(n.text);
      expect(fn.toString()).to.equal(n.text);
      expect(shape(fn, MD, 'getUserMedia')).to.deep.equal(n);
      expect(() => new (fn as unknown as new () => unknown)(), 'native methods are not constructors').to.throw(TypeError);
      expect(controller.chained, 'a non-native getUserMedia below us is reported').to.equal(true);
    });

    it('Function.prototype.toString and the patched track members look native too', () => {
      const ts = Function.prototype.toString;
      expect(ts).to.not.equal(nativeToString);
      expect(shape(ts, Function.prototype, 'toString')).to.deep.equal(nativeShapes.toString);
      expect(ts.call(ts)).to.equal('function toString() { [native code] }');
      // Ordinary functions still print their source.
      const mine = function hello(a: number): number { return a + 1; };
      expect(String(mine)).to.contain('return a + 1');
      for (const k of TRACK_METHODS) {
        expect(TP[k], k).to.not.equal(undefined);
        expect(shape(TP[k] as Function, TP, k), k).to.deep.equal(nativeShapes.methods[k]);
      }
      for (const k of TRACK_GETTERS) {
        expect(shape(getterOf(k), TP, k), `get ${k}`).to.deep.equal(nativeShapes.getters[k]);
      }
    });
  });

  describe('getUserMedia', () => {
    before(() => controller.setFilter({ kind: 'off' }));

    it("rejects as the browser's would when the camera cannot be had", async () => {
      const c = { video: { deviceId: { exact: 'no-such-camera' } } };
      const nativeErr = await nativeGum.call(navigator.mediaDevices, c).then(() => null, (e: unknown) => e as DOMException);
      const err = await navigator.mediaDevices.getUserMedia(c).then(() => null, (e: unknown) => e as DOMException);
      expect(nativeErr, 'the browser rejects').to.not.equal(null);
      expect(err?.name).to.equal(nativeErr!.name);
      expect(err?.constructor).to.equal(nativeErr!.constructor);
      // And a wrong `this` is still the browser's TypeError, as a rejection.
      const illegal = await (navigator.mediaDevices.getUserMedia as Gum).call({} as MediaDevices, { video: true }).then(() => null, (e: unknown) => e);
      expect(illegal).to.be.instanceOf(TypeError);
    });

    it('the legacy navigator.webkitGetUserMedia is wrapped too, and looks native', async function () {
      if (!nativeLegacy || !nativeLegacyShape) this.skip();
      const fn = NP.webkitGetUserMedia!;
      expect(fn).to.not.equal(nativeLegacy);
      expect(shape(fn, NP, 'webkitGetUserMedia')).to.deep.equal(nativeLegacyShape);
      const stream = await new Promise<MediaStream>((ok, fail) => fn.call(navigator, { video: true }, ok, fail));
      const t = stream.getVideoTracks()[0]!;
      handedOut.push(t);
      expect(registry.groups.has(t), 'a processed track').to.equal(true);
      t.stop();
      expect(groupOf(t).camera.readyState).to.equal('ended');
    });

    it("returns a processed track whose settings are the camera's, at once", async () => {
      const s = await gum({ video: true });
      const t = s.getVideoTracks()[0]!;
      const st = t.getSettings();
      expect(st.width).to.equal(rawVideoSettings.width);
      expect(st.height).to.equal(rawVideoSettings.height);
      expect(st.frameRate).to.equal(rawVideoSettings.frameRate);
      expect(st.deviceId).to.equal(rawVideoSettings.deviceId);
      expect(t.label).to.equal(rawVideoLabel);
      expect(t.kind).to.equal('video');
      expect(t.readyState).to.equal('live');
      // It is not the camera itself.
      const camera = underlying.at(-1)!.getVideoTracks()[0]!;
      expect(t).to.not.equal(camera);
      expect(groupOf(t).camera).to.equal(camera);
      expect(s).to.not.equal(underlying.at(-1));
      expect(t.getCapabilities()).to.deep.equal(camera.getCapabilities());
      t.stop();
      expect(camera.readyState).to.equal('ended');
    });

    it('passes audio through untouched, and returns requests without video as they are', async () => {
      const s = await gum({ audio: true, video: true });
      const under = underlying.at(-1)!;
      expect(s.getAudioTracks().length).to.equal(1);
      const a = s.getAudioTracks()[0]!;
      expect(a, 'the very audio track the browser made').to.equal(under.getAudioTracks()[0]);
      expect(a.label).to.equal(rawAudioLabel);
      expect(registry.groups.has(a)).to.equal(false);
      expect(a.getSettings().sampleRate).to.be.a('number');
      expect(s.getVideoTracks()[0]).to.not.equal(under.getVideoTracks()[0]);
      expect(registry.groups.has(s.getVideoTracks()[0]!)).to.equal(true);
      s.getTracks().forEach((t) => t.stop());
      expect(a.readyState).to.equal('ended');

      const live = registry.live.size;
      const audioOnly = await gum({ audio: true });
      expect(audioOnly, 'no video asked: the browser’s own stream').to.equal(underlying.at(-1));
      expect(registry.live.size).to.equal(live);
      audioOnly.getTracks().forEach((t) => t.stop());

      const noVideo = await gum({ audio: true, video: false });
      expect(noVideo).to.equal(underlying.at(-1));
    });

    it('five calls give five independent tracks; stopping them in any order spares the others', async () => {
      const tracks: MediaStreamTrack[] = [];
      for (let i = 0; i < 5; i++) tracks.push((await gum({ video: true })).getVideoTracks()[0]!);
      expect(new Set(tracks).size).to.equal(5);
      const groups = tracks.map(groupOf);
      expect(new Set(groups.map((g) => g.camera)).size, 'five cameras').to.equal(5);
      expect(new Set(groups.map((g) => g.pipeline)).size, 'five pipelines').to.equal(5);
      const rs = tracks.map(reader);
      const first = await Promise.all(rs.map((r) => r.next(8000)));
      for (const [i, f] of first.entries()) expect(f, `first frame of track ${i}`).to.not.equal(null);
      first.forEach((f) => f!.close());
      // A random order, printed so that a failure can be replayed.
      const order = [0, 1, 2, 3, 4].sort(() => Math.random() - 0.5);
      console.log('stop order', order.join(','));
      const stopped = new Set<number>();
      for (const i of order) {
        const lastTs = await Promise.all(rs.map(async (r, j) => (stopped.has(j) ? 0 : await latestTimestamp(r))));
        tracks[i]!.stop();
        stopped.add(i);
        expect(tracks[i]!.readyState).to.equal('ended');
        expect(groups[i]!.isEnded).to.equal(true);
        expect(groups[i]!.camera.readyState, `camera ${i} after its track stopped`).to.equal('ended');
        for (let j = 0; j < 5; j++) {
          if (stopped.has(j)) continue;
          expect(tracks[j]!.readyState).to.equal('live');
          expect(groups[j]!.camera.readyState).to.equal('live');
          // Still delivering: a frame captured well after the stop.
          const f = await rs[j]!.find((x) => x.timestamp > lastTs[j]! + 250_000, 3000);
          expect(f, `track ${j} delivers after ${[...stopped].join(',')} stopped`).to.not.equal(null);
          f!.close();
        }
      }
      expect(groups.every((g) => g.isEnded && g.camera.readyState === 'ended')).to.equal(true);
      for (const g of groups) expect(registry.live.has(g)).to.equal(false);
      await Promise.all(groups.map((g) => g.pipeline.stopped));
    });

    it('clone() joins the group; the camera lives until the last clone stops', async () => {
      const t = (await gum({ video: true })).getVideoTracks()[0]!;
      const g = groupOf(t);
      const c = t.clone();
      const s2 = new MediaStream([t]).clone();
      const c2 = s2.getVideoTracks()[0]!;
      expect(groupOf(c)).to.equal(g);
      expect(groupOf(c2), 'MediaStream.clone() clones into the group too').to.equal(g);
      expect(g.members.size).to.equal(3);
      expect(c.getSettings().deviceId).to.equal(rawVideoSettings.deviceId);
      const rc = reader(c);
      const lastTs = await latestTimestamp(rc);
      t.stop();
      c2.stop();
      expect(t.readyState).to.equal('ended');
      expect(g.camera.readyState, 'camera after the original stopped').to.equal('live');
      const f = await rc.find((x) => x.timestamp > lastTs + 500_000, 3000);
      expect(f, 'the clone keeps delivering').to.not.equal(null);
      f!.close();
      c.stop();
      expect(g.camera.readyState).to.equal('ended');
      expect(g.isEnded).to.equal(true);
      // A clone of a stopped track is not counted in any group.
      const late = t.clone();
      expect(registry.groups.has(late)).to.equal(false);
      late.stop();
    });

    it("'ended' on the camera ends every processed track and fires 'ended' on each", async () => {
      const t = (await gum({ video: true })).getVideoTracks()[0]!;
      const c = t.clone();
      const g = groupOf(t);
      const fired: string[] = [];
      t.addEventListener('ended', () => fired.push('t'));
      c.onended = () => fired.push('c');
      g.camera.dispatchEvent(new Event('ended'));
      expect(t.readyState).to.equal('ended');
      expect(c.readyState).to.equal('ended');
      expect(fired.sort()).to.deep.equal(['c', 't']);
      expect(g.isEnded).to.equal(true);
      expect(registry.live.has(g)).to.equal(false);
      expect(g.camera.readyState, 'the camera is released').to.equal('ended');
      let done = false;
      void g.pipeline.stopped.then(() => (done = true));
      expect(await until(() => done, 3000)).to.equal(true);
    });

    it("'mute' and 'unmute' on the camera reach the processed tracks", async () => {
      const t = (await gum({ video: true })).getVideoTracks()[0]!;
      const c = t.clone();
      const g = groupOf(t);
      const events: string[] = [];
      t.addEventListener('mute', () => events.push('t:mute'));
      t.onunmute = () => events.push('t:unmute');
      c.onmute = () => events.push('c:mute');
      g.camera.dispatchEvent(new Event('mute'));
      g.camera.dispatchEvent(new Event('unmute'));
      expect(events).to.deep.equal(['t:mute', 'c:mute', 't:unmute']);
      expect(t.muted).to.equal(g.camera.muted);
      t.stop();
      c.stop();
    });

    it('applyConstraints on the processed track reaches the camera and the output', async () => {
      const t = (await gum({ video: true })).getVideoTracks()[0]!;
      const r = reader(t);
      await t.applyConstraints({ width: 320, height: 240 });
      expect(t.getSettings().width).to.equal(320);
      expect(groupOf(t).camera.getSettings().width).to.equal(320);
      expect(t.getConstraints().width).to.equal(320);
      const f = await r.find((x) => x.displayWidth === 320, 5000);
      expect(f, 'a 320×240 output frame').to.not.equal(null);
      expect(f!.displayHeight).to.equal(240);
      f!.close();
      t.stop();
      // On a stopped track it does nothing and does not reject.
      await t.applyConstraints({ width: 640 });
    });
  });

  describe('filters', () => {
    it('setFilter changes the live output without a new getUserMedia', async () => {
      controller.setFilter({ kind: 'off' });
      const calls = underlying.length;
      const t = (await gum({ video: true })).getVideoTracks()[0]!;
      const r = reader(t);
      const raw = await r.next(8000);
      expect(raw).to.not.equal(null);
      expect(posterizedFraction(pixelsOf(raw!)), 'off: the camera as it is').to.be.below(0.5);
      raw!.close();
      controller.setFilter({ kind: 'style', id: 'posterize' });
      const post = await r.find((f) => posterizedFraction(pixelsOf(f)) > 0.9, 8000);
      expect(post, 'a posterized frame on the same track').to.not.equal(null);
      post!.close();
      expect(underlying.length).to.equal(calls + 1);
      expect(t.readyState).to.equal('live');
      controller.setFilter({ kind: 'off' });
      const back = await r.find((f) => posterizedFraction(pixelsOf(f)) < 0.5, 5000);
      expect(back, 'off again: passthrough').to.not.equal(null);
      back!.close();
      t.stop();
    });

    it('an unknown style fails closed: neither the raw camera nor black, and the status names it', async () => {
      controller.setFilter({ kind: 'off' });
      const t = (await gum({ video: true })).getVideoTracks()[0]!;
      const r = reader(t);
      const raw = await r.next(8000);
      expect(raw).to.not.equal(null);
      const rawImg = pixelsOf(raw!);
      raw!.close();
      expect(maxEdge(rawImg), 'the fake camera has sharp edges').to.be.above(100);
      controller.setFilter({ kind: 'style', id: 'no-such-style' });
      const s = await statusOf(groupOf(t), (x) => x.state === 'failed', 5000);
      expect(s?.state).to.equal('failed');
      expect(s?.lastError ?? '').to.contain('no-such-style');
      await r.drain(300);
      for (let i = 0; i < 5; i++) {
        const f = await r.next(3000);
        expect(f, 'frames keep coming').to.not.equal(null);
        const img = pixelsOf(f!);
        f!.close();
        expect(maxEdge(img), 'no sharp detail of the camera').to.be.below(40);
        expect(meanLuma(img), 'not black').to.be.above(20);
      }
      t.stop();
      controller.setFilter({ kind: 'off' });
    });
  });
});

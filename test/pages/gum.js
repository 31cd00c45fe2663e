// Test page helpers, exposed as window.gumTest (the test page's own API, not Brushcam's).
const streams = [];

function frameRgba(frame) {
  const c = new OffscreenCanvas(frame.displayWidth, frame.displayHeight);
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(frame, 0, 0);
  return ctx.getImageData(0, 0, c.width, c.height).data;
}

async function imageRgba(url, w, h) {
  const bmp = await createImageBitmap(await (await fetch(url)).blob());
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bmp, 0, 0, w, h);
  bmp.close();
  return ctx.getImageData(0, 0, w, h).data;
}

const posterize = (v, levels = 4) => Math.round(255 * Math.min(1, Math.floor((v / 255) * levels) / (levels - 1)));

/**
 * Browsers without MediaStreamTrackProcessor (Firefox): the track's frames as a page sees them,
 * from a <video> and requestVideoFrameCallback, newest wins, with a reader's read()/cancel().
 */
function videoFrameReader(track) {
  const v = document.createElement('video');
  v.muted = true;
  v.playsInline = true;
  v.srcObject = new MediaStream([track]);
  let pending = null;
  let waiter = null;
  let closed = false;
  const onFrame = (_now, meta) => {
    if (closed) return;
    let f = null;
    try {
      f = new VideoFrame(v, { timestamp: Math.round(meta.mediaTime * 1e6) });
    } catch {
      /* no picture yet */
    }
    if (f && waiter) {
      const w = waiter;
      waiter = null;
      w({ value: f, done: false });
    } else if (f) {
      pending?.close();
      pending = f;
    }
    v.requestVideoFrameCallback(onFrame);
  };
  v.play().catch(() => {});
  v.requestVideoFrameCallback(onFrame);
  return {
    read() {
      if (pending) {
        const f = pending;
        pending = null;
        return Promise.resolve({ value: f, done: false });
      }
      return new Promise((r) => (waiter = r));
    },
    async cancel() {
      closed = true;
      pending?.close();
      pending = null;
      waiter?.({ done: true });
      v.pause();
      v.srcObject = null;
    },
  };
}

/** Reads frames of a track with the page's own MediaStreamTrackProcessor (or a <video>). */
async function readFrames(track, n, onFrame, timeoutMs = 10000) {
  // Tests that hide the breakout-box APIs from Brushcam (the Firefox path) keep them here.
  const Processor = window.__testMediaStreamTrackProcessor ?? window.MediaStreamTrackProcessor;
  // One queued frame at most: queued frames hold capture buffers that every track of the same
  // camera shares, and a page that hoards them starves the others.
  const reader = Processor ? new Processor({ track, maxBufferSize: 1 }).readable.getReader() : videoFrameReader(track);
  const deadline = performance.now() + timeoutMs;
  let got = 0;
  try {
    while (got < n && performance.now() < deadline) {
      let timer;
      const r = await Promise.race([reader.read(), new Promise((res) => (timer = setTimeout(() => res({ timeout: true }), Math.max(1, deadline - performance.now()))))]);
      // (An uncleared timer per frame would hold its closure for the whole deadline.)
      clearTimeout(timer);
      if (r.timeout || r.done) break;
      try {
        await onFrame(r.value, got);
      } finally {
        r.value.close();
      }
      got++;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return got;
}

window.gumTest = {
  async open(constraints = { video: { width: 640, height: 360 } }) {
    const s = await navigator.mediaDevices.getUserMedia(constraints);
    streams.push(s);
    if (streams.length === 1 && document.getElementById('v')) document.getElementById('v').srcObject = s;
    return streams.length - 1;
  },
  /** The video track of stream i (for harness code that reads it itself). */
  track(i) {
    return streams[i].getVideoTracks()[0];
  },
  info(i) {
    const s = streams[i];
    return s.getTracks().map((t) => ({ kind: t.kind, readyState: t.readyState, label: t.label, muted: t.muted, enabled: t.enabled, settings: t.getSettings() }));
  },
  async applyConstraints(i, c) {
    await streams[i].getVideoTracks()[0].applyConstraints(c);
    return streams[i].getVideoTracks()[0].getSettings();
  },
  stop(i) {
    for (const t of streams[i].getTracks()) t.stop();
  },
  clone(i) {
    const t = streams[i].getVideoTracks()[0].clone();
    streams.push(new MediaStream([t]));
    return streams.length - 1;
  },
  setEnabled(i, on) {
    streams[i].getVideoTracks()[0].enabled = on;
  },
  /** Compares one output frame with a reference picture: raw, and posterized. */
  async compare(i, refUrl, skip = 5, marker = null) {
    const track = streams[i].getVideoTracks()[0];
    let result = null;
    await readFrames(track, skip + 1, async (frame, k) => {
      if (k < skip) return;
      const w = frame.displayWidth, h = frame.displayHeight;
      const out = frameRgba(frame);
      const ref = await imageRgba(refUrl, w, h);
      let dRaw = 0, dPost = 0, n = 0;
      for (let p = 0; p < out.length; p += 4) {
        for (let c = 0; c < 3; c++) {
          dRaw += Math.abs(out[p + c] - ref[p + c]);
          dPost += Math.abs(out[p + c] - posterize(ref[p + c]));
          n++;
        }
      }
      // Contrast of the raw-only checker marker: mean |difference| between horizontal neighbours.
      let markerContrast = null;
      if (marker) {
        let s = 0, m = 0;
        for (let y = marker.y + 2; y < marker.y + marker.size - 2; y++) {
          for (let x = marker.x + 2; x < marker.x + marker.size - 4; x += 2) {
            const p = (y * w + x) * 4, q = (y * w + x + 2) * 4;
            s += Math.abs(out[p] - out[q]);
            m++;
          }
        }
        markerContrast = s / m;
      }
      result = { width: w, height: h, timestamp: frame.timestamp, diffRaw: dRaw / n, diffPosterized: dPost / n, markerContrast };
    });
    if (!result) throw new Error('no frame arrived');
    return result;
  },
  /**
   * Reads `n` output frames of stream i (after `skip`) as small luma pictures (sw×sh) and compares
   * each with a reference picture in `boxes` ({x0, x1, y0, y1} in sw×sh pixels): per frame and box
   * the mean |Δ luma| to the reference and the box's sharpness (mean |Δ luma| between horizontal
   * neighbours), and the reference's own sharpness per box.
   */
  async regions(i, refUrl, boxes, n = 10, skip = 3, sw = 160, sh = 90) {
    const track = streams[i].getVideoTracks()[0];
    const luma = (d) => {
      const y = new Float32Array(sw * sh);
      for (let p = 0; p < sw * sh; p++) y[p] = 0.299 * d[4 * p] + 0.587 * d[4 * p + 1] + 0.114 * d[4 * p + 2];
      return y;
    };
    const small = (src) => {
      const c = new OffscreenCanvas(sw, sh);
      const ctx = c.getContext('2d', { willReadFrequently: true });
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(src, 0, 0, sw, sh);
      return luma(ctx.getImageData(0, 0, sw, sh).data);
    };
    const refBmp = await createImageBitmap(await (await fetch(refUrl)).blob());
    const ref = small(refBmp);
    refBmp.close();
    const sharp = (y, b) => {
      let s = 0, m = 0;
      for (let yy = b.y0; yy < b.y1; yy++) for (let x = b.x0; x < b.x1 - 1; x++) { s += Math.abs(y[yy * sw + x + 1] - y[yy * sw + x]); m++; }
      return s / m;
    };
    const diff = (a, b, r) => {
      let s = 0, m = 0;
      for (let yy = r.y0; yy < r.y1; yy++) for (let x = r.x0; x < r.x1; x++) { s += Math.abs(a[yy * sw + x] - b[yy * sw + x]); m++; }
      return s / m;
    };
    const frames = [];
    await readFrames(track, skip + n, (frame, k) => {
      if (k < skip) return;
      const y = small(frame);
      frames.push(boxes.map((b) => ({ diff: diff(y, ref, b), sharp: sharp(y, b) })));
    }, 30000);
    return { frames, ref: boxes.map((b) => sharp(ref, b)) };
  },
  /** A coarse picture of one output frame (after `skip` frames): 16×9 cells of mean RGB. */
  async signature(i, skip = 2) {
    const track = streams[i].getVideoTracks()[0];
    let sig = null;
    await readFrames(track, skip + 1, (frame, k) => {
      if (k < skip) return;
      const c = new OffscreenCanvas(16, 9);
      const ctx = c.getContext('2d', { willReadFrequently: true });
      ctx.drawImage(frame, 0, 0, 16, 9);
      sig = Array.from(ctx.getImageData(0, 0, 16, 9).data).filter((_, j) => j % 4 !== 3);
    });
    if (!sig) throw new Error('no frame arrived');
    return sig;
  },
  /** Frames and their timestamps over `ms` milliseconds. */
  async count(i, ms = 2000) {
    const track = streams[i].getVideoTracks()[0];
    const stamps = [];
    const sizes = new Set();
    let mean = 0;
    const t0 = performance.now();
    await readFrames(track, 1e9, (frame) => {
      stamps.push(frame.timestamp);
      sizes.add(`${frame.displayWidth}x${frame.displayHeight}`);
      if (stamps.length === 1) {
        const d = frameRgba(frame);
        let s = 0;
        for (let p = 0; p < d.length; p += 4) s += d[p] + d[p + 1] + d[p + 2];
        mean = s / (3 * d.length / 4);
      }
    }, ms);
    return { frames: stamps.length, seconds: (performance.now() - t0) / 1000, monotonic: stamps.every((t, k) => k === 0 || t > stamps[k - 1]), sizes: [...sizes], firstMean: mean };
  },
  visibility: () => document.visibilityState,
  /**
   * Sends stream i over a WebRTC loopback call (as a call site would); `callStats` then says how
   * many frames the sender encoded and the receiver decoded, which hidden tabs keep doing.
   */
  async call(i) {
    const a = new RTCPeerConnection(), b = new RTCPeerConnection();
    a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
    b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
    const remote = new Promise((r) => (b.ontrack = (e) => r(e.streams[0] ?? new MediaStream([e.track]))));
    for (const t of streams[i].getVideoTracks()) a.addTrack(t, streams[i]);
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);
    const rs = await remote;
    calls.push({ a, b });
    streams.push(rs);
    return { call: calls.length - 1, remote: streams.length - 1 };
  },
  async callStats(k) {
    const { a, b } = calls[k];
    let encoded = 0, decoded = 0;
    for (const r of (await a.getStats()).values()) if (r.type === 'outbound-rtp' && r.kind === 'video') encoded += r.framesEncoded ?? 0;
    for (const r of (await b.getStats()).values()) if (r.type === 'inbound-rtp' && r.kind === 'video') decoded += r.framesDecoded ?? 0;
    return { encoded, decoded };
  },
  /** requestVideoFrameCallback on a <video> playing stream i: callbacks in `ms`. */
  async rvfc(i, ms = 2000) {
    const v = document.createElement('video');
    v.muted = true;
    v.srcObject = streams[i];
    document.body.append(v);
    await v.play();
    let n = 0;
    const loop = () => {
      n++;
      v.requestVideoFrameCallback(loop);
    };
    v.requestVideoFrameCallback(loop);
    await new Promise((r) => setTimeout(r, ms));
    v.remove();
    return n / (ms / 1000);
  },
  /**
   * Watches every output frame of stream i until unwatch(): counts them, and counts the ones
   * that show the raw-only checker marker (contrast between pixels 2 apart above `rawAbove`, and
   * under half of it between pixels 4 apart: the checker's period).
   * `marker` may be a list: `raw` then counts the first one's sightings and `rawBy` each one's.
   */
  watch(i, marker, rawAbove = 25) {
    const track = streams[i].getVideoTracks()[0];
    const markers = Array.isArray(marker) ? marker : [marker];
    const w = { frames: 0, raw: 0, rawBy: markers.map(() => 0), snaps: [], maxContrast: 0, maxGapMs: 0, sizes: new Set(), stop: false, last: performance.now(), done: null };
    // The whole frame is read back once and every marker's tile is looked at in that copy (a grid
    // of hundreds of tiles read back one by one would watch only a few frames a second).
    let c = null, ctx = null;
    w.done = readFrames(track, 1e9, (frame) => {
      const now = performance.now();
      w.maxGapMs = Math.max(w.maxGapMs, now - w.last);
      w.last = now;
      w.frames++;
      const fw = frame.displayWidth, fh = frame.displayHeight;
      w.sizes.add(`${fw}x${fh}`);
      if (!c || c.width !== fw || c.height !== fh) {
        c = new OffscreenCanvas(fw, fh);
        ctx = c.getContext('2d', { willReadFrequently: true });
      }
      ctx.drawImage(frame, 0, 0, fw, fh);
      const d = ctx.getImageData(0, 0, fw, fh).data;
      markers.forEach((mk, k) => {
        if (mk.x < 0 || mk.y < 0 || mk.x + mk.size > fw || mk.y + mk.size > fh) return; // not in this frame
        const at = (x, y) => d[((mk.y + y) * fw + mk.x + x) * 4];
        // The marker is a checker of 2-px cells: pixels 2 apart differ, pixels 4 apart match.
        // Both must hold, so a drawn line or edge (which differs at 2 and at 4 px) is not the marker.
        let s = 0, s4 = 0, m = 0;
        for (let y = 2; y < mk.size - 2; y++) {
          for (let x = 2; x < mk.size - 6; x += 2) {
            const v = at(x, y);
            s += Math.abs(v - at(x + 2, y));
            s4 += Math.abs(v - at(x + 4, y));
            m++;
          }
        }
        const contrast = s / m;
        if (k === 0) w.maxContrast = Math.max(w.maxContrast, contrast);
        if (contrast > rawAbove && s4 / m < contrast / 2) {
          w.rawBy[k]++;
          if (k === 0) w.raw++;
          // the first sightings of each marker, for a person to look at (snapshots())
          if (w.rawBy[k] <= 3) w.snaps.push(createImageBitmap(frame).then((b) => ({ marker: k, frame: w.frames, bitmap: b })));
        }
      });
      if (w.stop) throw new Error('unwatched');
    }, 1e9).catch(() => {});
    watches.set(i, w);
  },
  /** What watch(i) saw so far (and stops it when `stop`). */
  async watched(i, stop = false) {
    const w = watches.get(i);
    if (stop) {
      w.stop = true;
      await Promise.race([w.done, new Promise((r) => setTimeout(r, 3000))]);
      watches.delete(i);
    }
    return { frames: w.frames, raw: w.raw, rawBy: [...w.rawBy], maxContrast: w.maxContrast, maxGapMs: w.maxGapMs, sizes: [...w.sizes] };
  },
  /** PNG data URLs of the first output frames of stream i that showed each marker (watch(i)). */
  async snapshots(i) {
    const w = watches.get(i);
    const out = [];
    for (const s of w ? await Promise.all(w.snaps) : []) {
      const c = new OffscreenCanvas(s.bitmap.width, s.bitmap.height);
      c.getContext('2d').drawImage(s.bitmap, 0, 0);
      const blob = await c.convertToBlob({ type: 'image/png' });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let bin = '';
      for (let k = 0; k < bytes.length; k += 0x8000) bin += String.fromCharCode(...bytes.subarray(k, k + 0x8000));
      out.push({ marker: s.marker, frame: s.frame, png: btoa(bin) });
    }
    return out;
  },
};
const watches = new Map();
const calls = [];

// Main-thread long tasks (> 50 ms) of this page since it loaded, for the benchmark.
const longTasks = [];
try {
  new PerformanceObserver((list) => longTasks.push(...list.getEntries().map((e) => e.duration))).observe({ type: 'longtask', buffered: true });
} catch {
  /* no long-task timing in this browser */
}

/**
 * Reads `n` output frames of stream i (or until `maxMs`): how many came, over how long, the
 * camera timestamps they carried, and the long tasks in that time.
 */
window.gumTest.measure = async (i, n, maxMs) => {
  const track = streams[i].getVideoTracks()[0];
  const lt0 = longTasks.length;
  const t0 = performance.now();
  let first = null;
  let last = null;
  const got = await readFrames(track, n, (frame) => {
    first ??= frame.timestamp;
    last = frame.timestamp;
  }, maxMs);
  const seconds = (performance.now() - t0) / 1000;
  const lts = longTasks.slice(lt0);
  return { frames: got, seconds, mediaSeconds: first === null ? 0 : (last - first) / 1e6, longTasks: lts.length, longTaskMs: lts.reduce((a, b) => a + b, 0), heap: performance.memory?.usedJSHeapSize ?? null };
};

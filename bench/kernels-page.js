// Runs in the bench page: where one style frame's time goes, stage by stage and kernel by
// kernel, with the extension's own runtime (bench/kernels.mjs drives it). The WASM backend runs
// each kernel synchronously, so wall-clock deltas around each stage are that stage's cost.
const kit = await import('/build/ml-testkit.js');
const { tf, setWasmPaths, PaintNet, Stylizer } = kit;
setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

// The least time over the repetitions: on a shared machine most repetitions lose the core to
// other processes for part of the time; the fastest is the closest to the work itself.
const least = (xs) => Math.min(...xs);

// A worker that sends every bitmap straight back: the page ↔ engine hop, one way = half.
const echo = new Worker(URL.createObjectURL(new Blob(['onmessage = (e) => postMessage(e.data, [e.data]);'], { type: 'text/javascript' })));
const roundTrip = (bmp) => new Promise((res) => {
  echo.onmessage = (e) => res(e.data);
  echo.postMessage(bmp, [bmp]);
});

function camera(w, h) {
  // A camera-like picture: gradients and detail, not a flat frame.
  const c = new OffscreenCanvas(w, h);
  const g = c.getContext('2d');
  const grad = g.createLinearGradient(0, 0, w, h);
  grad.addColorStop(0, '#d9a27e');
  grad.addColorStop(1, '#2a3f66');
  g.fillStyle = grad;
  g.fillRect(0, 0, w, h);
  for (let i = 0; i < 200; i++) {
    g.fillStyle = `hsl(${(i * 37) % 360} 60% ${30 + (i % 5) * 10}%)`;
    g.beginPath();
    g.arc((i * 97) % w, (i * 61) % h, 4 + (i % 13), 0, 7);
    g.fill();
  }
  return c;
}

window.kernelBench = async ({ backend, styles, sides, reps, out: outSize = [640, 360], threads = false }) => {
  if (threads) {
    // As in Chromium's offscreen engine: an isolated context and the thread files as shipped.
    if (!crossOriginIsolated) throw new Error('--threads needs a cross-origin isolated page');
    setWasmPaths('/dist/chrome/wasm/');
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    kit.setThreadsCount(kit.wasmThreadsWanted());
  }
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  if (threads && kit.wasmThreads() < 2) throw new Error(`the WASM backend runs ${kit.wasmThreads()} thread(s), not several`);
  await tf.ready();
  const [W, H] = outSize;
  const src = camera(W, H);
  const rows = [];
  for (const s of styles) {
    const model = await PaintNet.load(s.url, undefined, { fuse: !s.baseline });
    const canvas = new OffscreenCanvas(4, 4);
    const ctx = canvas.getContext('2d');
    for (const side of sides) {
      const [w, h] = kit.internalSize(W, H, side, model.inputMultiple);
      const t = { scale: [], toEngine: [], upload: [], network: [], download: [], upscale: [], toPage: [], total: [] };
      let kernels = null;
      const PROFILED = 3;
      for (let r = 0; r < reps + 2 + PROFILED; r++) {
        const frame = await createImageBitmap(src);
        const t0 = performance.now();
        // Page: the frame at the internal size (RemoteFilter's resize), then to the engine.
        const small = await createImageBitmap(frame, { resizeWidth: w, resizeHeight: h, resizeQuality: 'medium' });
        frame.close();
        const t1 = performance.now();
        const inEngine = await roundTrip(small);
        const t2 = performance.now();
        const x = tf.tidy(() => tf.expandDims(tf.div(tf.browser.fromPixels(inEngine), 255), 0));
        inEngine.close();
        const t3 = performance.now();
        let y;
        if (r >= reps + 2) {
          // Per kernel: the profiled frame (of three) with the least kernel time.
          const prof = await tf.profile(() => model.run(x));
          const ks = prof.kernels.filter((k) => !k.name.endsWith('__op')).map((k) => ({ name: k.name, ms: k.kernelTimeMs, out: k.outputShapes?.[0] ?? null }));
          const sum = (a) => a.reduce((s, k) => s + k.ms, 0);
          if (!kernels || sum(ks) < sum(kernels)) kernels = ks;
          y = prof.result;
        } else {
          y = model.run(x);
        }
        const t4 = performance.now();
        const y3 = tf.tidy(() => tf.clipByValue(tf.squeeze(y, [0]), 0, 1));
        const px = await tf.browser.toPixels(y3);
        tf.dispose([x, y, y3]);
        const t5 = performance.now();
        if (canvas.width !== w || canvas.height !== h) {
          canvas.width = w;
          canvas.height = h;
        }
        ctx.putImageData(new ImageData(px, w, h), 0, 0);
        const big = await createImageBitmap(canvas, { resizeWidth: W, resizeHeight: H, resizeQuality: 'medium' });
        const t6 = performance.now();
        const back = await roundTrip(big);
        const t7 = performance.now();
        back.close();
        if (r < 2 || r >= reps + 2) continue; // warm-up; the profiled runs are slower
        t.scale.push(t1 - t0);
        // One way of the round trip each.
        t.toEngine.push((t2 - t1) / 2);
        t.upload.push(t3 - t2);
        t.network.push(t4 - t3);
        t.download.push(t5 - t4);
        t.upscale.push(t6 - t5);
        t.toPage.push((t7 - t6) / 2);
        t.total.push(t7 - t0 - (t2 - t1) / 2 - (t7 - t6) / 2);
      }
      const byName = {};
      for (const k of kernels) {
        byName[k.name] ??= { count: 0, ms: 0 };
        byName[k.name].count++;
        byName[k.name].ms += k.ms;
      }
      rows.push({
        style: s.id, baseline: Boolean(s.baseline), tier: s.tier ?? null, side, internal: `${w}x${h}`, backend,
        stages: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, least(v)])),
        kernelCount: kernels.length, kernelMs: kernels.reduce((a, k) => a + k.ms, 0), byKernel: byName, kernels,
      });
    }
    model.dispose();
  }
  return rows;
};

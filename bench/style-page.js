// Runs in the bench page: times style networks with the extension's own tfjs runtime.
const kit = await import('/build/ml-testkit.js');
const { tf, setWasmPaths, PaintNet, styleFlops, referenceReCoNet } = kit;
setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

async function time(model, h, w, reps) {
  const x = tf.tidy(() => tf.randomUniform([1, h, w, 3]));
  const warm = model.run(x);
  await warm.data();
  warm.dispose();
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const y = model.run(x);
    await y.data(); // the readback the fallback backends do anyway
    ms.push(performance.now() - t0);
    y.dispose();
  }
  x.dispose();
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], min: ms[0], reps };
}

window.styleBench = async ({ backend, sizes, styles, reps, refReps }) => {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  await tf.ready();
  const rows = [];
  const ref = referenceReCoNet();
  for (const [w, h] of sizes) {
    for (const s of styles) {
      const m = await PaintNet.load(s.url);
      // Networks with stride-16 encoders take multiples of 16: the runtime rounds up (640x360 runs
      // at 640x368), and so does the bench; the row says what ran.
      const k = m.inputMultiple;
      const [rw, rh] = [Math.ceil(w / k) * k, Math.ceil(h / k) * k];
      rows.push({ model: s.id, backend, size: `${w}x${h}`, ran: `${rw}x${rh}`, gflop: styleFlops(m.json, rh, rw) / 1e9, ...(await time(m, rh, rw, reps)) });
      m.dispose();
    }
    const r = PaintNet.fromParts(ref.json, [ref.bin.slice(0)]);
    rows.push({ model: 'reconet-reference', backend, size: `${w}x${h}`, gflop: styleFlops(ref.json, h, w) / 1e9, ...(await time(r, h, w, refReps)) });
    r.dispose();
  }
  return rows;
};

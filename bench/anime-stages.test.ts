// Per-stage time of the anime avatar (src/engine/avatar/avatar-painter.ts) at 640×360 and 1280×720 on tfjs WASM, with a
// full-size Twin-GAN (random weights: the cost does not depend on them) on 60 frames of d3.mp4.
// Run with `sh bench/anime-stages.sh` (prepares build/anime-full and build/d3f, then runs this).
export {};
type Kit = typeof import('../../src/entries/ml-testkit');
const { tf, setWasmPaths, PaintNet, FaceFinder, AvatarPainter } = (await import('/build/ml-testkit.js' as string)) as Kit;
setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
describe('measure', function () {
  this.timeout(300000);
  for (const [W, H] of [[640, 360], [1280, 720]] as const) for (const presentation of ['face-swap', 'full-avatar'] as const) it(`${presentation} ${W}x${H}`, async () => {
    await tf.setBackend('wasm');
    const opts = { wasm: '/node_modules/@mediapipe/tasks-vision/wasm', model: '/models/face/blaze_face_short_range.tflite' };
    const finder = await FaceFinder.create(opts);
    const imgs: ImageBitmap[] = [];
    for (let i = 1; i <= 60; i++) {
      const png = await createImageBitmap(await (await fetch(`/build/d3f/${String(i).padStart(3, '0')}.png`)).blob());
      imgs.push(png.width === W ? png : await createImageBitmap(png, { resizeWidth: W, resizeHeight: H, resizeQuality: 'high' }));
    }
    // detector alone, every frame
    const det: number[] = [];
    for (const im of imgs) { const t = performance.now(); finder.detect(im); det.push(performance.now() - t); }
    finder.close();
    const p = new AvatarPainter(await PaintNet.load('/build/anime-full/'), await FaceFinder.create(opts), presentation);
    const acc = { detect: [] as number[], track: [] as number[], translate: [] as number[], composite: [] as number[], total: [] as number[] };
    for (let r = 0; r < 2; r++) for (const [i, im] of imgs.entries()) {
      const t = performance.now();
      (await p.paint(im)).close();
      if (r === 0 && i < 10) continue;
      acc.total.push(performance.now() - t);
      for (const k of ['detect', 'track', 'translate', 'composite'] as const) acc[k].push(p.lastMs[k]);
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!.toFixed(1);
    const mean = (a: number[]) => (a.reduce((x, y) => x + y, 0) / a.length).toFixed(1);
    console.log(`${presentation} ${W}x${H}: detector per run median ${med(det.slice(5))} ms; governor ${p.tier}; per frame mean (median): ` + Object.entries(acc).map(([k, v]) => `${k} ${mean(v)} (${med(v)})`).join(', ') + `; one translation ${med(acc.translate.filter((v) => v > 0))} ms (median)`);
    p.dispose();
    imgs.forEach((b) => b.close());
  });
});

import { expect } from '@esm-bundle/chai';
type Kit = typeof import('../../src/entries/ml-testkit');
const { tf, setWasmPaths, FaceFinder, FaceMesh, FaceTracker, rig } = (await import('/build/ml-testkit.js' as string)) as Kit;
setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
const FINDER = { wasm: '/node_modules/@mediapipe/tasks-vision/wasm', model: '/models/face/blaze_face_short_range.tflite' };

describe('puppet explore', function () {
  this.timeout(900_000);
  it('measures clips', async () => {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    await tf.setBackend('wasm');
    const finder = await FaceFinder.create(FINDER);
    const mesh = await FaceMesh.load('/');
    for (const clip of ['d3', 'd0', 'd12', 'd9', 'src_s18']) {
      const n = Number(await (await fetch(`/__clipframes/${clip}/count`)).text());
      const fps = clip === 'd0' || clip === 'd12' ? 25 : 30;
      const tr = new FaceTracker(finder, mesh);
      const r = new rig.Rig();
      const rows: string[] = [];
      let ms = { det: 0, mesh: 0, iris: 0 }, found = 0, agreeE = 0, agreeM = 0, yawErr: number[] = [];
      for (let k = 1; k <= n; k++) {
        const bmp = await createImageBitmap(await (await fetch(`/__clipframes/${clip}/${k}.jpg`)).blob());
        const f = await tr.track(bmp);
        bmp.close();
        ms.det += tr.lastMs.detect; ms.mesh += tr.lastMs.mesh; ms.iris += tr.lastMs.iris;
        const m = f ? rig.measure(f, 640, 360) : null;
        const s = r.update(m, k / fps);
        if (m) {
          found++;
          if (rig.eyesOpen(m) === rig.rigEyesOpen(s)) agreeE++;
          if (rig.mouthOpen(m) === rig.rigMouthOpen(s)) agreeM++;
          yawErr.push(Math.abs(m.yaw - s.yaw) * 180 / Math.PI);
          rows.push([k, ...['yaw', 'pitch', 'roll', 'eyeL', 'eyeR', 'mouth', 'wide', 'smile', 'browL', 'browR', 'gazeX', 'gazeY'].map((q) => (m as any)[q].toFixed(3)), f!.score.toFixed(2)].join(' '));
        } else rows.push(`${k} none`);
      }
      yawErr.sort((a, b) => a - b);
      console.log(`${clip}: ${n} frames, face ${found}; mean ms det ${(ms.det / n).toFixed(1)} mesh ${(ms.mesh / n).toFixed(1)} iris ${(ms.iris / n).toFixed(1)}; eyes agree ${(agreeE / found).toFixed(3)} mouth ${(agreeM / found).toFixed(3)} yaw err median ${yawErr[yawErr.length >> 1]?.toFixed(2)} p90 ${yawErr[Math.floor(yawErr.length * 0.9)]?.toFixed(2)}`);
      await fetch('/__dump', { method: 'POST', body: `${clip}\n${rows.join('\n')}` }).catch(() => {});
      (globalThis as any)[`rows_${clip}`] = rows;
      console.log(`ROWS ${clip}\n` + rows.filter((_, i) => i % 3 === 0).join('\n'));
    }
    expect(true).to.equal(true);
  });
});

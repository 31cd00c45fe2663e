import { expect } from '@esm-bundle/chai';

// The avatar translator's op list (training/brushcam_anime) run by the extension's tfjs model
// runtime: the untrained fixture always, and every trained avatar model models/manifest.json lists.
type Kit = typeof import('../../src/entries/ml-testkit');
const { tf, setWasmPaths, PaintNet, parseModelsManifest } = (await import('/build/ml-testkit.js' as string)) as Kit;
setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

interface Parity { shape: [number, number, number, number]; tolerance: number; x: number[]; y: number[] }

async function folders(): Promise<{ id: string; url: string }[]> {
  const m = parseModelsManifest(await (await fetch('/models/manifest.json')).json());
  return [
    { id: 'anime-tiny (fixture)', url: '/test/fixtures/anime-tiny/' },
    ...m.models.filter((e) => e.kind === 'avatar' && e.folder).map((e) => ({ id: e.id, url: `/models/${e.folder}/` })),
  ];
}

describe('avatar translator models (Twin-GAN op list in tfjs)', () => {
  for (const backend of ['wasm', 'webgl'] as const) {
    it(`matches the PyTorch output within 1e-3 on ${backend}`, async function () {
      this.timeout(120_000);
      expect(await tf.setBackend(backend)).to.equal(true);
      for (const f of await folders()) {
        const parity = (await (await fetch(`${f.url}parity.json`)).json()) as Parity;
        const model = await PaintNet.load(f.url);
        const before = tf.memory().numTensors;
        const [n, c, h, w] = parity.shape;
        const x = tf.tidy(() => tf.transpose(tf.tensor4d(parity.x, [n, c, h, w]), [0, 2, 3, 1]) as import('@tensorflow/tfjs-core').Tensor4D);
        const want = tf.tidy(() => tf.transpose(tf.tensor4d(parity.y, [n, c, h, w]), [0, 2, 3, 1]));
        const y = model.run(x);
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(y, want))));
        const diff = (await d.data())[0]!;
        tf.dispose([x, y, want, d]);
        expect(tf.memory().numTensors, `${f.id}: tensors leaked`).to.equal(before);
        model.dispose();
        expect(diff, `${f.id} on ${backend}: max |tfjs - pytorch|`).to.be.at.most(Math.min(parity.tolerance, 1e-3));
      }
    });
  }
});

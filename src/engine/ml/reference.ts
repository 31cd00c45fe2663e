import type { PaintNetJson, PaintNetOp, WeightSpec } from './paint-net';

/**
 * The full-size ReCoNet of the paper (Gao et al. 2018): encoder conv 9×9/1 (48), 3×3/2 (96),
 * 3×3/2 (192), four residual blocks of 192, decoder nearest ×2 + conv 3×3 (96), nearest ×2 +
 * conv 3×3 (48), conv 9×9 → RGB, instance norms, ReLU, sigmoid. Same definition as
 * `ReCoNetRef` in training/brushcam_train/nets.py, in the exported op-list format, with seeded
 * random weights: it is the speed baseline the shipped networks are compared against.
 */
export function referenceReCoNet(widths: [number, number, number] = [48, 96, 192], resBlocks = 4): { json: PaintNetJson; bin: ArrayBuffer } {
  const weights: WeightSpec[] = [];
  const ops: PaintNetOp[] = [];
  const conv = (name: string, cin: number, cout: number, k: number, stride: number, norm: boolean, relu: boolean): void => {
    weights.push({ name: `${name}.conv.weight`, shape: [cout, cin, k, k], dtype: 'float32' });
    if (!norm) weights.push({ name: `${name}.conv.bias`, shape: [cout], dtype: 'float32' });
    ops.push({ op: 'conv2d', weight: `${name}.conv.weight`, bias: norm ? null : `${name}.conv.bias`, kernel: k, stride, pad: Math.floor(k / 2) });
    if (norm) {
      weights.push({ name: `${name}.norm.weight`, shape: [cout], dtype: 'float32' }, { name: `${name}.norm.bias`, shape: [cout], dtype: 'float32' });
      ops.push({ op: 'instance_norm', weight: `${name}.norm.weight`, bias: `${name}.norm.bias`, eps: 1e-5 });
    }
    if (relu) ops.push({ op: 'relu' });
  };
  const [a, b, c] = widths;
  conv('enc1', 3, a, 9, 1, true, true);
  conv('enc2', a, b, 3, 2, true, true);
  conv('enc3', b, c, 3, 2, true, true);
  for (let r = 0; r < resBlocks; r++) {
    ops.push({ op: 'save', name: `res${r}` });
    conv(`res${r}.a`, c, c, 3, 1, true, true);
    conv(`res${r}.b`, c, c, 3, 1, true, false);
    ops.push({ op: 'add', name: `res${r}` });
  }
  ops.push({ op: 'features' }, { op: 'upsample_nearest' });
  conv('dec1', c, b, 3, 1, true, true);
  ops.push({ op: 'upsample_nearest' });
  conv('dec2', b, a, 3, 1, true, true);
  conv('out', a, 3, 9, 1, false, false);
  ops.push({ op: 'sigmoid' });

  const total = weights.reduce((n, w) => n + w.shape.reduce((x, y) => x * y, 1), 0);
  const data = new Float32Array(total);
  let seed = 12345;
  let offset = 0;
  for (const w of weights) {
    const n = w.shape.reduce((x, y) => x * y, 1);
    const fanIn = w.shape.length === 4 ? w.shape[1]! * w.shape[2]! * w.shape[3]! : 1;
    const isNormScale = w.name.endsWith('norm.weight');
    for (let i = 0; i < n; i++) {
      seed = (seed * 16807) % 2147483647;
      const u = seed / 2147483647 - 0.5;
      data[offset + i] = isNormScale ? 1 : w.shape.length === 4 ? (u * 2) / Math.sqrt(fanIn) : 0;
    }
    offset += n;
  }
  const json: PaintNetJson = {
    format: 'brushcam-paintnet', version: 1, id: 'reconet-reference', layout: 'OIHW',
    arch: { name: 'ReCoNetRef', widths, res_blocks: resBlocks },
    ops,
    weightsManifest: [{ paths: ['weights.bin'], weights }],
  };
  return { json, bin: data.buffer };
}

import type { PaintNetJson, PaintNetOp } from './paint-net';

/**
 * Analytic FLOPs of a style network's forward pass at an input of h×w: 2 × multiply-adds of
 * every convolution (norms, activations, upsampling and adds are < 1% and not counted), the
 * same convention as training/brushcam_train/nets.py.
 */
export function styleFlops(json: Pick<PaintNetJson, 'ops' | 'weightsManifest'>, h: number, w: number): number {
  const shapes = new Map<string, number[]>();
  for (const g of json.weightsManifest) for (const x of g.weights) shapes.set(x.name, x.shape);
  let flops = 0;
  let H = h;
  let W = w;
  for (const op of json.ops as PaintNetOp[]) {
    if (op.op === 'conv2d' || op.op === 'depthwise_conv2d') {
      const [o, i, kh, kw] = shapes.get(op.weight)!;
      H = Math.floor((H + 2 * op.pad - kh!) / op.stride) + 1;
      W = Math.floor((W + 2 * op.pad - kw!) / op.stride) + 1;
      const macs = op.op === 'conv2d' ? kh! * kw! * i! * o! : kh! * kw! * o!;
      flops += 2 * macs * H * W;
    } else if (op.op === 'upsample_nearest') {
      H *= 2;
      W *= 2;
    }
  }
  return flops;
}

/**
 * The puppet's face tracking models: MediaPipe's face mesh (468 landmarks on a 192×192 face
 * crop, and a face-presence score) and its iris model (eye contour and five iris points on a
 * 64×64 eye crop), as tfjs graph models shipped in models/puppet/ (see their MODEL.md). Both run
 * on whatever tfjs backend the engine chose; the caller crops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';

/** Where the shipped models live under the extension's root. */
export const FACE_MESH_PATH = 'models/puppet/facemesh/model.json';
export const IRIS_PATH = 'models/puppet/iris/model.json';
export const MESH_SIDE = 192;
export const IRIS_SIDE = 64;
export const MESH_POINTS = 468;
/** Iris model output: 71 eye-contour points, then the iris centre and four points on its rim. */
const IRIS_CONTOUR = 71;

/** Output tensor names of the face mesh graph (its signature: output_mesh, output_faceflag). */
const MESH_OUT = ['Identity_2:0', 'Identity_1:0'];

export interface MeshResult {
  /** 468 × (x, y, z) in crop pixels (z: depth on the same scale, smaller is nearer). */
  points: Float32Array;
  /** Face presence, 0-1. */
  score: number;
}

function pixelsTensor(img: ImageData): tf.Tensor4D {
  return tf.tidy(() => tf.expandDims(tf.div(tf.cast(tf.browser.fromPixels(img), 'float32'), 255), 0) as tf.Tensor4D);
}

export class FaceMesh {
  private constructor(private readonly mesh: GraphModel, private readonly iris: GraphModel | null) {}

  /** `root`: the extension root (or any folder holding models/puppet/...). */
  static async load(root: string, o: { iris?: boolean } = {}): Promise<FaceMesh> {
    const mesh = await loadGraphModel(`${root}${FACE_MESH_PATH}`);
    let iris: GraphModel | null = null;
    try {
      if (o.iris !== false) iris = await loadGraphModel(`${root}${IRIS_PATH}`);
    } catch (e) {
      mesh.dispose();
      throw e;
    }
    return new FaceMesh(mesh, iris);
  }

  get hasIris(): boolean {
    return this.iris !== null;
  }

  /** Landmarks of the face in a MESH_SIDE×MESH_SIDE crop. */
  async run(crop: ImageData): Promise<MeshResult> {
    if (crop.width !== MESH_SIDE || crop.height !== MESH_SIDE) {
      throw new Error(`face mesh: expected a ${MESH_SIDE}×${MESH_SIDE} crop, got ${crop.width}×${crop.height}`);
    }
    const input = pixelsTensor(crop);
    const out = this.mesh.execute(input, MESH_OUT) as tf.Tensor[];
    input.dispose();
    try {
      const [points, score] = await Promise.all([out[0]!.data(), out[1]!.data()]);
      return { points: points as Float32Array, score: score[0]! };
    } finally {
      for (const t of out) t.dispose();
    }
  }

  /**
   * Iris centres of both eyes, each in its eye crop's pixels (IRIS_SIDE square); `flip[k]`: eye k
   * was mirrored before (the model knows one eye; the other is mirrored into it, and back here).
   */
  async irises(eyes: ImageData[], flip: boolean[]): Promise<{ x: number; y: number }[]> {
    if (!this.iris) throw new Error('face mesh: loaded without the iris model');
    const input = tf.tidy(() => tf.concat(eyes.map((e, k) => {
      const t = pixelsTensor(e);
      return flip[k] ? tf.reverse(t, 2) : t;
    }), 0));
    const out = this.iris.execute(input) as tf.Tensor;
    input.dispose();
    const d = await out.data();
    out.dispose();
    const per = d.length / eyes.length;
    return eyes.map((_, k) => {
      const x = d[k * per + IRIS_CONTOUR * 3]!;
      const y = d[k * per + IRIS_CONTOUR * 3 + 1]!;
      return { x: flip[k] ? IRIS_SIDE - x : x, y };
    });
  }

  dispose(): void {
    this.mesh.dispose();
    this.iris?.dispose();
  }
}

import { isSoftwareGl } from '../../shared/software-gpu';
import type { Filter } from './filter';

const VERTEX = `#version 300 es
in vec2 pos;
out vec2 uv;
void main() {
  uv = vec2((pos.x + 1.0) * 0.5, (1.0 - pos.y) * 0.5);
  gl_Position = vec4(pos, 0.0, 1.0);
}`;

const FRAGMENT = `#version 300 es
precision mediump float;
uniform sampler2D frame;
uniform float levels;
in vec2 uv;
out vec4 color;
void main() {
  vec3 c = texture(frame, uv).rgb;
  color = vec4(floor(c * levels) / (levels - 1.0), 1.0);
}`;

/** Quantises each channel to `levels` values: floor(v * levels) / (levels - 1), v in [0, 1]. */
export function posterizeValue(v: number, levels: number): number {
  return Math.min(1, Math.floor(v * levels) / (levels - 1));
}

/**
 * A cheap GPU filter (WebGL2 fragment shader on an OffscreenCanvas) that proves the frame path:
 * every channel is quantised to a few levels. Falls back to Canvas 2D on the CPU where
 * WebGL2 is unavailable.
 */
export class PosterizeFilter implements Filter {
  backend: string;
  private canvas: OffscreenCanvas;
  private gl: WebGL2RenderingContext | null;
  private ctx2d: OffscreenCanvasRenderingContext2D | null;
  private texture: WebGLTexture | null = null;
  private disposed = false;

  private constructor(readonly levels: number, preferCpu: boolean, acceptSoftwareGl: boolean) {
    if (!(levels >= 2 && levels <= 256 && Number.isInteger(levels))) {
      throw new RangeError(`posterize levels must be an integer in [2, 256], got ${levels}`);
    }
    this.canvas = new OffscreenCanvas(2, 2);
    this.gl = preferCpu ? null : (this.canvas.getContext('webgl2', { alpha: false, premultipliedAlpha: false, preserveDrawingBuffer: true }) as WebGL2RenderingContext | null);
    let software = false;
    if (this.gl && !acceptSoftwareGl && isSoftwareGl(this.gl)) {
      // WebGL on a CPU rasteriser (SwiftShader, llvmpipe) uploads and reads back every frame
      // through an emulated GPU: Canvas 2D does the same work directly, about twice as fast at
      // 1280×720 (npm run bench: posterize 0.57 of camera fps on WebGL2, the Canvas 2D path 1.00).
      this.gl.getExtension('WEBGL_lose_context')?.loseContext();
      this.canvas = new OffscreenCanvas(2, 2);
      this.gl = null;
      software = true;
    }
    if (this.gl) {
      this.setUpGl(this.gl);
      this.ctx2d = null;
      this.backend = 'webgl2';
    } else {
      this.ctx2d = this.canvas.getContext('2d', { willReadFrequently: true, alpha: false }) as OffscreenCanvasRenderingContext2D | null;
      if (!this.ctx2d) throw new Error('posterize: neither WebGL2 nor a 2D canvas is available');
      this.backend = software ? 'canvas2d (software WebGL)' : 'canvas2d';
    }
  }

  /** The GPU went away (context lost): carry on with Canvas 2D on a fresh canvas. */
  private fallBackToCanvas2d(): void {
    this.gl = null;
    this.texture = null;
    this.canvas = new OffscreenCanvas(2, 2);
    this.ctx2d = this.canvas.getContext('2d', { willReadFrequently: true, alpha: false }) as OffscreenCanvasRenderingContext2D | null;
    if (!this.ctx2d) throw new Error('posterize: the WebGL context was lost and no 2D canvas is available');
    this.backend = 'canvas2d (WebGL context lost)';
  }

  /**
   * `preferCpu`: Canvas 2D even where WebGL2 works. `acceptSoftwareGl` (default true): false
   * takes Canvas 2D where WebGL2 is only a CPU rasteriser (what the extension asks for with the
   * backend on "auto").
   */
  static async create(opts: { levels?: number; preferCpu?: boolean; acceptSoftwareGl?: boolean } = {}): Promise<PosterizeFilter> {
    return new PosterizeFilter(opts.levels ?? 4, opts.preferCpu ?? false, opts.acceptSoftwareGl ?? true);
  }

  private setUpGl(gl: WebGL2RenderingContext): void {
    const compile = (type: number, src: string): WebGLShader => {
      const s = gl.createShader(type)!;
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`posterize shader: ${gl.getShaderInfoLog(s)}`);
      return s;
    };
    const program = gl.createProgram()!;
    gl.attachShader(program, compile(gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`posterize program: ${gl.getProgramInfoLog(program)}`);
    gl.useProgram(program);
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const loc = gl.getAttribLocation(program, 'pos');
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    gl.uniform1f(gl.getUniformLocation(program, 'levels'), this.levels);
    gl.uniform1i(gl.getUniformLocation(program, 'frame'), 0);
    this.texture = gl.createTexture();
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  }

  async process(frame: VideoFrame): Promise<VideoFrame> {
    try {
      return this.draw(frame);
    } finally {
      frame.close();
    }
  }

  private draw(frame: VideoFrame): VideoFrame {
    if (this.disposed) throw new Error('posterize filter used after dispose()');
    const w = frame.displayWidth;
    const h = frame.displayHeight;
    if (this.gl?.isContextLost()) this.fallBackToCanvas2d();
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    if (this.gl) {
      const gl = this.gl;
      gl.viewport(0, 0, w, h);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, frame);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      if (gl.isContextLost()) {
        // Lost during this frame: what the canvas holds is not the frame.
        this.fallBackToCanvas2d();
        return this.draw(frame);
      }
    } else {
      const ctx = this.ctx2d!;
      ctx.drawImage(frame, 0, 0, w, h);
      const img = ctx.getImageData(0, 0, w, h);
      const d = img.data;
      const lut = new Uint8ClampedArray(256);
      for (let i = 0; i < 256; i++) lut[i] = Math.round(255 * posterizeValue(i / 255, this.levels));
      for (let i = 0; i < d.length; i += 4) {
        d[i] = lut[d[i]!]!;
        d[i + 1] = lut[d[i + 1]!]!;
        d[i + 2] = lut[d[i + 2]!]!;
      }
      ctx.putImageData(img, 0, 0);
    }
    return new VideoFrame(this.canvas, {
      timestamp: frame.timestamp,
      ...(frame.duration != null ? { duration: frame.duration } : {}),
      alpha: 'discard',
    });
  }

  /** Fault injection for tests: loses the WebGL context as a GPU reset would. */
  loseContextForTest(): boolean {
    const ext = this.gl?.getExtension('WEBGL_lose_context');
    ext?.loseContext();
    return !!ext;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.gl) {
      if (this.texture) this.gl.deleteTexture(this.texture);
      this.gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
    this.canvas.width = 1;
    this.canvas.height = 1;
  }
}

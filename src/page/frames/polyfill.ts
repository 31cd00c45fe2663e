/**
 * MediaStreamTrackProcessor / MediaStreamTrackGenerator for browsers that lack them
 * (Firefox, older Safari): a <video> element with requestVideoFrameCallback as the frame
 * source and a canvas's captureStream() as the sink. Same contracts as the native path:
 * the reader owns every frame it reads; the sink closes every frame written to it.
 */

type VideoWithRvfc = HTMLVideoElement & {
  requestVideoFrameCallback?: (cb: (now: number, meta: { mediaTime: number }) => void) => number;
  cancelVideoFrameCallback?: (id: number) => void;
};

export interface VideoElementSourceOptions {
  frameRate: number;
  /** An unthrottled timer for hidden tabs; defaults to setTimeout. Returns a cancel function. */
  tick?: (cb: () => void, ms: number) => () => void;
}

export class VideoElementSource {
  readonly kind = 'polyfill' as const;
  readonly readable: ReadableStream<VideoFrame>;
  private readonly video: VideoWithRvfc;
  private controller: ReadableStreamDefaultController<VideoFrame> | null = null;
  private rvfcId: number | null = null;
  private cancelTick: (() => void) | null = null;
  private closed = false;
  private lastMediaTime = -1;
  private readonly t0 = performance.now();
  private readonly onVisibility = (): void => this.schedule();

  constructor(track: MediaStreamTrack, private readonly o: VideoElementSourceOptions) {
    const video = document.createElement('video') as VideoWithRvfc;
    video.muted = true;
    video.playsInline = true;
    video.autoplay = true;
    video.srcObject = new MediaStream([track]);
    this.video = video;
    this.readable = new ReadableStream<VideoFrame>(
      {
        start: (c) => {
          this.controller = c;
          void video.play().catch(() => {});
          document.addEventListener('visibilitychange', this.onVisibility);
          this.schedule();
        },
        cancel: () => this.close(),
      },
      { highWaterMark: 2 },
    );
  }

  /** Frames come from rVFC while the page renders, and from a timer when it is hidden. */
  private schedule(): void {
    if (this.closed) return;
    if (this.rvfcId !== null) this.video.cancelVideoFrameCallback?.(this.rvfcId);
    this.rvfcId = null;
    this.cancelTick?.();
    this.cancelTick = null;
    if (!document.hidden && this.video.requestVideoFrameCallback) {
      const loop = (_now: number, meta: { mediaTime: number }): void => {
        if (this.closed) return;
        this.emit(meta.mediaTime);
        this.rvfcId = this.video.requestVideoFrameCallback!(loop);
      };
      this.rvfcId = this.video.requestVideoFrameCallback(loop);
    } else {
      const tick = this.o.tick ?? ((cb: () => void, ms: number) => {
        const id = setTimeout(cb, ms);
        return () => clearTimeout(id);
      });
      const period = 1000 / Math.max(1, this.o.frameRate);
      const loop = (): void => {
        if (this.closed) return;
        this.emit(null);
        this.cancelTick = tick(loop, period);
      };
      this.cancelTick = tick(loop, period);
    }
  }

  private emit(mediaTime: number | null): void {
    const c = this.controller;
    const v = this.video;
    if (!c || this.closed || v.readyState < 2 || v.videoWidth === 0) return;
    if (mediaTime !== null && mediaTime === this.lastMediaTime) return;
    if (mediaTime !== null) this.lastMediaTime = mediaTime;
    if ((c.desiredSize ?? 0) <= 0) return; // the reader is behind: skip rather than queue
    const timestamp = Math.round(mediaTime !== null ? mediaTime * 1e6 : (performance.now() - this.t0) * 1000);
    let frame: VideoFrame;
    try {
      frame = new VideoFrame(v, { timestamp, alpha: 'discard' });
    } catch {
      return; // no decodable frame yet
    }
    c.enqueue(frame);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    if (this.rvfcId !== null) this.video.cancelVideoFrameCallback?.(this.rvfcId);
    this.cancelTick?.();
    this.video.pause();
    this.video.srcObject = null;
    try {
      this.controller?.close();
    } catch {
      /* already closed */
    }
  }
}

/**
 * The sink: a 2D canvas captured with captureStream() and no frame rate, so the browser takes a
 * frame each time the canvas is drawn. Not captureStream(0) + requestFrame(): in Firefox ESR
 * (153) requestFrame() called from a requestVideoFrameCallback callback stops the source video's
 * callbacks for good, and a <video> playing a captureStream(0) track never shows a new frame:
 * every call froze on its first frame (docs/firefox-bugs.md).
 */
export class CanvasCaptureSink {
  readonly kind = 'polyfill' as const;
  readonly writable: WritableStream<VideoFrame>;
  readonly track: MediaStreamTrack;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;

  constructor() {
    this.canvas = document.createElement('canvas');
    this.canvas.width = 2;
    this.canvas.height = 2;
    const ctx = this.canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('polyfill sink: a 2D canvas is required');
    this.ctx = ctx;
    const track = this.canvas.captureStream().getVideoTracks()[0] as MediaStreamTrack | undefined;
    if (!track) throw new Error('polyfill sink: canvas.captureStream() gave no video track');
    this.track = track;
    this.writable = new WritableStream<VideoFrame>({
      write: (frame) => {
        try {
          if (this.canvas.width !== frame.displayWidth || this.canvas.height !== frame.displayHeight) {
            this.canvas.width = frame.displayWidth;
            this.canvas.height = frame.displayHeight;
          }
          this.ctx.drawImage(frame, 0, 0);
        } finally {
          frame.close();
        }
      },
      close: () => track.stop(),
      abort: () => track.stop(),
    });
  }
}

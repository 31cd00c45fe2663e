import { VideoElementSource, CanvasCaptureSink } from './polyfill';

/** A stream of camera frames. The reader owns each frame it reads. */
export interface FrameSource {
  readonly readable: ReadableStream<VideoFrame>;
  readonly kind: 'native' | 'polyfill';
}

/** Where processed frames go; `track` is what the page receives. The sink closes what it gets. */
export interface FrameSink {
  readonly writable: WritableStream<VideoFrame>;
  readonly track: MediaStreamTrack;
  readonly kind: 'native' | 'polyfill';
}

/** The breakout-box constructors captured before any page script could replace them. */
export interface NativeFrameApis {
  Processor: (new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => { readable: ReadableStream<VideoFrame> }) | null;
  Generator: (new (init: { kind: 'video' }) => MediaStreamTrack & { writable: WritableStream<VideoFrame> }) | null;
}

export function captureNativeFrameApis(g: typeof globalThis = globalThis): NativeFrameApis {
  const w = g as unknown as Record<string, unknown>;
  return {
    Processor: (typeof w.MediaStreamTrackProcessor === 'function' ? w.MediaStreamTrackProcessor : null) as NativeFrameApis['Processor'],
    Generator: (typeof w.MediaStreamTrackGenerator === 'function' ? w.MediaStreamTrackGenerator : null) as NativeFrameApis['Generator'],
  };
}

export interface SourceSinkOptions {
  apis: NativeFrameApis;
  /** Use the <video>/<canvas> polyfill even where the native APIs exist (tests, Firefox). */
  forcePolyfill?: boolean;
  /** Frame rate the polyfill's timer runs at in hidden tabs. */
  frameRate?: number;
  /** A timer that is not throttled in hidden tabs (a worker's), when the page allows one. */
  tick?: (cb: () => void, ms: number) => () => void;
}

export function createSource(track: MediaStreamTrack, o: SourceSinkOptions): FrameSource {
  if (!o.forcePolyfill && o.apis.Processor) {
    const p = new o.apis.Processor({ track, maxBufferSize: 2 });
    return { readable: p.readable, kind: 'native' };
  }
  return new VideoElementSource(track, { frameRate: o.frameRate ?? 30, tick: o.tick });
}

export function createSink(o: SourceSinkOptions): FrameSink {
  if (!o.forcePolyfill && o.apis.Generator) {
    const g = new o.apis.Generator({ kind: 'video' });
    return { writable: g.writable, track: g, kind: 'native' };
  }
  return new CanvasCaptureSink();
}

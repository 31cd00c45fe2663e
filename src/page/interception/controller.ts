import { connect, parseToMain, type CameraState, type ToIsolated } from '../../shared/bridge-protocol';
import type { FilterFactory } from '../filters/filter';
import { captureNativeFrameApis } from '../frames/source-sink';
import { Pipeline, type PipelineStatus, type WorkerIntrinsics } from '../pipeline';
import type { FilterSpec } from '../../shared/settings';
import { installDisguise, replaceMethod, type Disguise } from './native';
import { append, NativePromise, natives } from './page-natives';
import { TrackRegistry } from './tracks';

export interface ControllerOptions {
  workerSource: string | null;
  createFilter: FilterFactory;
  /** Tests: run the <video>/<canvas> polyfill even where native APIs exist. */
  forcePolyfill?: boolean;
}

type GetUserMedia = (this: MediaDevices, c?: MediaStreamConstraints) => Promise<MediaStream>;
type LegacyGetUserMedia = (
  this: Navigator,
  c: MediaStreamConstraints,
  ok: (s: MediaStream) => void,
  fail: (e: unknown) => void,
) => void;

/**
 * Everything Brushcam does in the page's MAIN world: wraps the camera tracks that
 * getUserMedia returns, owns their pipelines, and applies the settings that arrive over
 * the private bridge. Nothing is exposed on `window`.
 */
export class PageController {
  private readonly disguise: Disguise;
  private readonly registry: TrackRegistry;
  private readonly apis = captureNativeFrameApis();
  private readonly intrinsics: WorkerIntrinsics;
  private filter: FilterSpec | null = null;
  private assetBase: string | null = null;
  private port: MessagePort | null = null;
  private previewEveryMs = 0;
  /** Engine sessions asked of the isolated world, by request id (a dictionary without prototype). */
  private readonly engineWaiters: Record<number, { resolve: (p: MessagePort) => void; reject: (e: Error) => void }> = Object.create(null);
  private nextEngineId = 1;
  private statusTimer: ReturnType<typeof setInterval> | null = null;
  /** Another extension had already replaced getUserMedia before us. */
  readonly chained: boolean;

  constructor(private readonly o: ControllerOptions) {
    this.intrinsics = {
      Worker,
      Blob,
      createObjectURL: URL.createObjectURL.bind(URL),
      revokeObjectURL: URL.revokeObjectURL.bind(URL),
    };
    this.disguise = installDisguise();
    this.registry = new TrackRegistry(this.disguise, () => this.sendStatus());
    this.chained = this.patchGetUserMedia();
  }

  /** Connects to the isolated content script (the only source of settings). */
  connectBridge(): void {
    connect('main', (port) => {
      this.port = port;
      // Captured natives only: the page must never be handed this port (see page-natives.ts).
      natives.onPortMessage(port, (data, e) => this.onBridgeMessage(data, e));
    });
  }

  /** Applies a filter to every running and future pipeline. */
  setFilter(spec: FilterSpec, assetBase: string | null = this.assetBase): void {
    this.filter = spec;
    this.assetBase = assetBase;
    const ps = this.pipelines;
    for (let i = 0; i < ps.length; i++) ps[i]!.setFilter(spec);
  }

  /** The live pipelines, oldest first (index loops only: see page-natives.ts). */
  get pipelines(): Pipeline[] {
    const live = this.registry.live.values();
    const out: Pipeline[] = [];
    for (let i = 0; i < live.length; i++) append(out, live[i]!.pipeline);
    return out;
  }

  /**
   * A session with the extension's engine. The isolated world opens it (only it and the engine
   * know the engine's secret) and hands the port over the bridge.
   */
  private openEngine(): Promise<MessagePort> {
    const port = this.port;
    if (!port) return NativePromise.reject(new Error('the extension has not connected yet'));
    const id = this.nextEngineId++;
    return new NativePromise<MessagePort>((resolve, reject) => {
      const timer = setTimeout(() => {
        delete this.engineWaiters[id];
        reject(new Error('the filter engine frame did not answer'));
      }, 20000);
      this.engineWaiters[id] = {
        resolve: (p) => (clearTimeout(timer), resolve(p)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      natives.postToPort(port, { ns: 'brushcam', t: 'engine?', id } satisfies ToIsolated);
    });
  }

  private onBridgeMessage(raw: unknown, e: MessageEvent): void {
    const msg = parseToMain(raw);
    if (!msg) return;
    if (msg.t === 'engine') {
      const w = this.engineWaiters[msg.id];
      if (!w) return;
      delete this.engineWaiters[msg.id];
      const p = natives.firstPort(e);
      if (p && msg.error === null) w.resolve(p);
      else w.reject(new Error(msg.error ?? 'no session port from the filter engine'));
    } else if (msg.t === 'config') this.setFilter(msg.filter, msg.assetBase);
    else if (msg.t === 'preview') {
      this.previewEveryMs = msg.everyMs;
      this.updatePreview();
    }
  }

  /** Only the newest live pipeline produces previews. */
  private updatePreview(): void {
    const ps = this.pipelines;
    for (let i = 0; i < ps.length; i++) ps[i]!.setPreview(i === ps.length - 1 ? this.previewEveryMs : 0);
  }

  private sendStatus(): void {
    if (!this.port) return;
    const ps = this.pipelines;
    const pipelines: PipelineStatus[] = [];
    for (let i = 0; i < ps.length; i++) append(pipelines, ps[i]!.status());
    const recent = this.registry.recent;
    const cameras: CameraState[] = [];
    for (let i = 0; i < recent.length; i++) {
      const g = recent[i]!;
      append(cameras, { label: this.registry.native.label.call(g.camera), state: g.camera.readyState, outputs: g.members.size });
    }
    const msg: ToIsolated = { ns: 'brushcam', t: 'status', pipelines, cameras, chained: this.chained };
    natives.postToPort(this.port, msg);
  }

  /** Wraps one camera track; returns the processed track the page gets. */
  wrap(camera: MediaStreamTrack): MediaStreamTrack {
    const pipeline = new Pipeline(camera, {
      apis: this.apis,
      workerSource: this.o.workerSource,
      intrinsics: this.intrinsics,
      createFilter: this.o.createFilter,
      env: { assetBase: this.assetBase },
      forcePolyfill: this.o.forcePolyfill,
      openEngine: () => this.openEngine(),
      onPreview: (bitmap) => {
        if (this.port) natives.postToPort(this.port, { ns: 'brushcam', t: 'preview', bitmap } satisfies ToIsolated, [bitmap]);
        else bitmap.close();
      },
    });
    if (this.filter) pipeline.setFilter(this.filter);
    this.registry.adopt(camera, pipeline);
    this.updatePreview();
    if (!this.statusTimer) {
      this.statusTimer = setInterval(() => {
        if (this.registry.live.size === 0 && this.statusTimer) {
          // Keep reporting the released cameras once more, then go quiet.
          clearInterval(this.statusTimer);
          this.statusTimer = null;
        }
        this.sendStatus();
      }, 1000);
    }
    return pipeline.track;
  }

  private patchGetUserMedia(): boolean {
    const md = globalThis.MediaDevices?.prototype;
    if (!md || typeof md.getUserMedia !== 'function') return false;
    const original = md.getUserMedia as GetUserMedia;
    const chained = !/\[native code\]/.test(Function.prototype.toString.call(original));
    const NativeMediaStream = MediaStream;
    const self = this;
    const getUserMedia = this.disguise.native(async function getUserMedia(this: MediaDevices, constraints?: MediaStreamConstraints) {
      const stream = await original.call(this, constraints);
      if (!constraints?.video || stream.getVideoTracks().length === 0) return stream;
      const out = new NativeMediaStream();
      for (const t of stream.getTracks()) {
        if (t.kind !== 'video') {
          out.addTrack(t);
          continue;
        }
        try {
          out.addTrack(self.wrap(t));
        } catch (e) {
          // Never hand out the raw camera when we could not wrap it.
          for (const x of stream.getTracks()) x.stop();
          throw new DOMException(`Brushcam could not process the camera: ${e instanceof Error ? e.message : String(e)}`, 'NotReadableError');
        }
      }
      return out;
    }, 'getUserMedia', 0);
    replaceMethod(md, 'getUserMedia', getUserMedia);

    // Legacy callback forms, where the browser still has them.
    const nav = Navigator.prototype as unknown as Record<string, unknown>;
    for (const name of ['getUserMedia', 'webkitGetUserMedia', 'mozGetUserMedia']) {
      if (typeof nav[name] !== 'function') continue;
      const legacy = this.disguise.native(function (this: Navigator, c: MediaStreamConstraints, ok: (s: MediaStream) => void, fail: (e: unknown) => void) {
        navigator.mediaDevices.getUserMedia(c).then(ok, fail);
      } as LegacyGetUserMedia, name, 3);
      replaceMethod(nav, name, legacy);
    }
    return chained;
  }
}

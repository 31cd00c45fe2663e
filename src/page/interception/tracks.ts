import type { Pipeline } from '../pipeline';
import { replaceGetter, replaceMethod, type Disguise } from './native';
import { append, SafeSet, SafeWeakMap } from './page-natives';

/**
 * The processed tracks a page receives, and the camera track behind each. Every processed
 * track (and each clone of it) behaves like the camera track: settings, capabilities,
 * constraints and label come from the camera; constraints are applied to the camera; the
 * camera stops when the last processed track of its group stops; ended/mute/unmute on the
 * camera reach every processed track.
 */
export class TrackGroup {
  // Safe collections and index loops throughout: a page that replaced Set, WeakMap or array
  // iteration methods must not be handed a group (and through it the pipeline).
  readonly members = new SafeSet<MediaStreamTrack>();
  private ended = false;
  private readonly forward = (e: Event): void => this.onCameraEvent(e);

  constructor(
    readonly camera: MediaStreamTrack,
    readonly pipeline: Pipeline,
    private readonly registry: TrackRegistry,
  ) {
    camera.addEventListener('ended', this.forward);
    camera.addEventListener('mute', this.forward);
    camera.addEventListener('unmute', this.forward);
  }

  add(track: MediaStreamTrack): void {
    this.members.add(track);
    this.registry.groups.set(track, this);
  }

  /** A member was stopped by the page. */
  release(track: MediaStreamTrack): void {
    this.members.delete(track);
    if (this.members.size === 0) this.shutdown();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Stops the camera and frees the pipeline. */
  shutdown(): void {
    if (this.ended) return;
    this.ended = true;
    this.camera.removeEventListener('ended', this.forward);
    this.camera.removeEventListener('mute', this.forward);
    this.camera.removeEventListener('unmute', this.forward);
    this.registry.native.stop.call(this.camera);
    void this.pipeline.dispose();
    this.registry.onShutdown(this);
  }

  private onCameraEvent(e: Event): void {
    const members = this.members.values();
    if (e.type === 'ended') {
      this.members.clear();
      for (let i = 0; i < members.length; i++) this.registry.native.stop.call(members[i]!);
      this.shutdown();
      for (let i = 0; i < members.length; i++) members[i]!.dispatchEvent(new Event('ended'));
      return;
    }
    for (let i = 0; i < members.length; i++) members[i]!.dispatchEvent(new Event(e.type));
  }
}

interface NativeTrackMethods {
  stop: (this: MediaStreamTrack) => void;
  clone: (this: MediaStreamTrack) => MediaStreamTrack;
  getSettings: (this: MediaStreamTrack) => MediaTrackSettings;
  getCapabilities: (this: MediaStreamTrack) => MediaTrackCapabilities;
  getConstraints: (this: MediaStreamTrack) => MediaTrackConstraints;
  applyConstraints: (this: MediaStreamTrack, c?: MediaTrackConstraints) => Promise<void>;
  label: (this: MediaStreamTrack) => string;
  muted: (this: MediaStreamTrack) => boolean;
  streamClone: (this: MediaStream) => MediaStream;
  MediaStream: typeof MediaStream;
}

export class TrackRegistry {
  readonly groups = new SafeWeakMap<MediaStreamTrack, TrackGroup>();
  readonly live = new SafeSet<TrackGroup>();
  /** The newest groups, live or shut down, for the popup's camera state (at most 16). */
  readonly recent: TrackGroup[] = [];
  readonly native: NativeTrackMethods;

  constructor(private readonly disguise: Disguise, readonly onShutdownHook: (g: TrackGroup) => void = () => {}) {
    const P = MediaStreamTrack.prototype;
    const getter = (k: string): (() => never) => Object.getOwnPropertyDescriptor(P, k)!.get as () => never;
    this.native = {
      stop: P.stop,
      clone: P.clone,
      getSettings: P.getSettings,
      getCapabilities: P.getCapabilities,
      getConstraints: P.getConstraints,
      applyConstraints: P.applyConstraints,
      label: getter('label'),
      muted: getter('muted'),
      streamClone: MediaStream.prototype.clone,
      MediaStream,
    };
    this.patch();
  }

  /** Registers the processed track of a new pipeline. */
  adopt(camera: MediaStreamTrack, pipeline: Pipeline): TrackGroup {
    const g = new TrackGroup(camera, pipeline, this);
    g.add(pipeline.track);
    this.live.add(g);
    append(this.recent, g);
    if (this.recent.length > 16) {
      // shift() in place, without Array.prototype methods
      for (let i = 1; i < this.recent.length; i++) this.recent[i - 1] = this.recent[i]!;
      this.recent.length -= 1;
    }
    return g;
  }

  onShutdown(g: TrackGroup): void {
    this.live.delete(g);
    this.onShutdownHook(g);
  }

  private patch(): void {
    const P = MediaStreamTrack.prototype;
    const n = this.native;
    const groups = this.groups;
    const d = this.disguise;
    const cameraOf = (t: MediaStreamTrack): MediaStreamTrack => groups.get(t)?.camera ?? t;

    replaceMethod(P, 'getSettings', d.native(function getSettings(this: MediaStreamTrack) {
      return n.getSettings.call(cameraOf(this));
    }, 'getSettings', 0));
    replaceMethod(P, 'getCapabilities', d.native(function getCapabilities(this: MediaStreamTrack) {
      return n.getCapabilities.call(cameraOf(this));
    }, 'getCapabilities', 0));
    replaceMethod(P, 'getConstraints', d.native(function getConstraints(this: MediaStreamTrack) {
      return n.getConstraints.call(cameraOf(this));
    }, 'getConstraints', 0));
    replaceMethod(P, 'applyConstraints', d.native(function applyConstraints(this: MediaStreamTrack, c?: MediaTrackConstraints) {
      const g = groups.get(this);
      if (g && (g.isEnded || this.readyState === 'ended')) return Promise.resolve();
      return n.applyConstraints.call(g ? g.camera : this, c);
    }, 'applyConstraints', 0));
    replaceMethod(P, 'stop', d.native(function stop(this: MediaStreamTrack) {
      n.stop.call(this);
      groups.get(this)?.release(this);
    }, 'stop', 0));
    replaceMethod(P, 'clone', d.native(function clone(this: MediaStreamTrack) {
      const c = n.clone.call(this);
      const g = groups.get(this);
      if (g && !g.isEnded && this.readyState !== 'ended') g.add(c);
      return c;
    }, 'clone', 0));
    replaceGetter(P, 'label', d.native(function get_label(this: MediaStreamTrack) {
      return n.label.call(cameraOf(this));
    }, 'get label', 0));
    replaceGetter(P, 'muted', d.native(function get_muted(this: MediaStreamTrack) {
      const g = groups.get(this);
      return g && !g.isEnded ? n.muted.call(g.camera) : n.muted.call(this);
    }, 'get muted', 0));
    // MediaStream.clone() clones tracks internally, bypassing clone() above.
    replaceMethod(MediaStream.prototype, 'clone', d.native(function clone(this: MediaStream) {
      if (!this.getTracks().some((t) => groups.has(t))) return n.streamClone.call(this);
      return new n.MediaStream(this.getTracks().map((t) => t.clone()));
    }, 'clone', 0));
  }
}

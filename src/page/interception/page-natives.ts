/**
 * The built-ins Brushcam's MAIN-world script uses once page scripts can run, captured when the
 * script starts (document_start, before any page script exists).
 *
 * The MAIN world shares its built-ins with the page: a page can replace
 * `MessagePort.prototype.postMessage`, the `onmessage` setters, `MessageEvent.prototype.data`,
 * `Array.prototype[Symbol.iterator]`, getters on `Object.prototype`... and every call Brushcam
 * made through them would hand the page its private objects (the bridge port that carries the
 * settings, the filter worker, the settings themselves). So the code that carries settings and
 * control calls the captured originals through a captured `Reflect.apply`, reads message data
 * only through own properties, and never passes a private object through a lookup the page can
 * change. See SECURITY.md for what this does and does not cover.
 */
const apply = Reflect.apply;
const getOwn = Object.getOwnPropertyDescriptor;
const defineProperty = Reflect.defineProperty;
const ITERATOR = Symbol.iterator;

function accessor(proto: object | undefined, key: string, which: 'get' | 'set'): ((this: unknown, ...a: unknown[]) => unknown) | null {
  const d = proto ? getOwn(proto, key) : undefined;
  return (d?.[which] as ((this: unknown, ...a: unknown[]) => unknown) | undefined) ?? null;
}
function method(proto: object | undefined, key: string): ((this: unknown, ...a: unknown[]) => unknown) | null {
  const d = proto ? getOwn(proto, key) : undefined;
  return typeof d?.value === 'function' ? (d.value as (this: unknown, ...a: unknown[]) => unknown) : null;
}

const g = globalThis as unknown as Record<string, { prototype?: object } | undefined>;
const PORT = g.MessagePort?.prototype;
const WORKER = g.Worker?.prototype;
const portPost = method(PORT, 'postMessage');
const portSetOnMessage = accessor(PORT, 'onmessage', 'set');
const portClose = method(PORT, 'close');
const eventData = accessor(g.MessageEvent?.prototype, 'data', 'get');
const eventPorts = accessor(g.MessageEvent?.prototype, 'ports', 'get');
const channelPort1 = accessor(g.MessageChannel?.prototype, 'port1', 'get');
const channelPort2 = accessor(g.MessageChannel?.prototype, 'port2', 'get');
const NativeMessageChannel = globalThis.MessageChannel;
/** A page may replace the global Promise; one made by it would be handed our resolve functions. */
export const NativePromise = Promise;
const workerPost = method(WORKER, 'postMessage');
const workerSetOnMessage = accessor(WORKER, 'onmessage', 'set');
const workerSetOnError = accessor(WORKER, 'onerror', 'set');
const workerTerminate = method(WORKER, 'terminate');

function call(fn: ((this: unknown, ...a: unknown[]) => unknown) | null, self: unknown, args: unknown[], what: string): unknown {
  if (!fn) throw new Error(`this browser has no ${what}`);
  return apply(fn, self, args);
}

/**
 * A transfer list whose iteration touches nothing the page can replace: an own
 * `[Symbol.iterator]` returning an iterator with an own `next` (an array's would go through
 * `%ArrayIteratorPrototype%.next`, which a page can swap to read the list).
 */
export function transferList(items: Transferable[]): Iterable<Transferable> {
  const n = items.length;
  return {
    [ITERATOR]() {
      let i = 0;
      return { next: () => (i < n ? { value: items[i++]!, done: false } : { value: undefined, done: true }) };
    },
  } as unknown as Iterable<Transferable>;
}

export { own } from '../../shared/own';

/** Appends to an array without `push` or an index setter a page could have put on Array.prototype. */
export function append<T>(list: T[], v: T): void {
  defineProperty(list, list.length, { value: v, writable: true, enumerable: true, configurable: true });
}

export const natives = {
  postToPort(port: MessagePort, msg: unknown, transfer: Transferable[] = []): void {
    call(portPost, port, transfer.length ? [msg, transferList(transfer)] : [msg], 'MessagePort.postMessage');
  },
  /** Sets `port.onmessage` (which also starts the port) to a handler that drops synthetic events. */
  onPortMessage(port: MessagePort, handler: (data: unknown, e: MessageEvent) => void): void {
    call(portSetOnMessage, port, [(e: MessageEvent) => {
      // isTrusted is an own, unforgeable property: false for any event a script dispatched.
      if (!e.isTrusted) return;
      handler(call(eventData, e, [], 'MessageEvent.data'), e);
    }], 'MessagePort.onmessage');
  },
  closePort(port: MessagePort): void {
    call(portClose, port, [], 'MessagePort.close');
  },
  /** The event's first port, read through the captured getter (only for trusted events). */
  firstPort(e: MessageEvent): MessagePort | null {
    if (!e.isTrusted) return null;
    const ports = call(eventPorts, e, [], 'MessageEvent.ports') as readonly MessagePort[];
    return ports.length > 0 ? ports[0]! : null;
  },
  channel(): [MessagePort, MessagePort] {
    const ch = new NativeMessageChannel();
    return [call(channelPort1, ch, [], 'MessageChannel.port1') as MessagePort, call(channelPort2, ch, [], 'MessageChannel.port2') as MessagePort];
  },
  postToWorker(w: Worker, msg: unknown, transfer: Transferable[] = []): void {
    call(workerPost, w, transfer.length ? [msg, transferList(transfer)] : [msg], 'Worker.postMessage');
  },
  onWorkerMessage(w: Worker, handler: ((data: unknown) => void) | null): void {
    call(workerSetOnMessage, w, [handler ? (e: MessageEvent) => {
      if (e.isTrusted) handler(call(eventData, e, [], 'MessageEvent.data'));
    } : null], 'Worker.onmessage');
  },
  onWorkerError(w: Worker, handler: ((e: Event) => void) | null): void {
    call(workerSetOnError, w, [handler], 'Worker.onerror');
  },
  terminate(w: Worker): void {
    call(workerTerminate, w, [], 'Worker.terminate');
  },
};

const NativeWeakMap = WeakMap;
const NativeSet = Set;
const wmGet = WeakMap.prototype.get;
const wmSet = WeakMap.prototype.set;
const wmHas = WeakMap.prototype.has;
const wmDelete = WeakMap.prototype.delete;
const setAdd = Set.prototype.add;
const setHas = Set.prototype.has;
const setDelete = Set.prototype.delete;
const setClear = Set.prototype.clear;
const setForEach = Set.prototype.forEach;
const setSize = accessor(Set.prototype, 'size', 'get')!;

/**
 * A WeakMap whose operations a page cannot watch: `WeakMap.prototype.get` replaced by a page
 * would otherwise receive the map (and with it every value) on each call.
 */
export class SafeWeakMap<K extends object, V> {
  readonly #m = new NativeWeakMap<K, V>();
  get(k: K): V | undefined {
    return apply(wmGet, this.#m, [k]) as V | undefined;
  }
  set(k: K, v: V): this {
    apply(wmSet, this.#m, [k, v]);
    return this;
  }
  has(k: K): boolean {
    return apply(wmHas, this.#m, [k]) as boolean;
  }
  delete(k: K): boolean {
    return apply(wmDelete, this.#m, [k]) as boolean;
  }
}

/** A Set the same way; iterate with `values()`, an array snapshot made without iterators. */
export class SafeSet<T> {
  readonly #s = new NativeSet<T>();
  add(v: T): this {
    apply(setAdd, this.#s, [v]);
    return this;
  }
  has(v: T): boolean {
    return apply(setHas, this.#s, [v]) as boolean;
  }
  delete(v: T): boolean {
    return apply(setDelete, this.#s, [v]) as boolean;
  }
  clear(): void {
    apply(setClear, this.#s, []);
  }
  get size(): number {
    return apply(setSize, this.#s, []) as number;
  }
  values(): T[] {
    const out: T[] = [];
    apply(setForEach, this.#s, [(v: T) => append(out, v)]);
    return out;
  }
}

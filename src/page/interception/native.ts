/**
 * Makes our replacement functions indistinguishable from the built-ins they replace for
 * the checks sites actually do: `name`, `length`, `toString()` and
 * `Function.prototype.toString.call(fn)` all read like native code.
 */
export interface Disguise {
  /** Gives `fn` the name, length and source text of a native function. */
  native<F extends (...args: never[]) => unknown>(fn: F, name: string, length: number): F;
}

export function installDisguise(): Disguise {
  const disguised = new WeakMap<object, string>();
  const origToString = Function.prototype.toString;
  const apply = Reflect.apply;
  const toString = {
    toString(this: unknown): string {
      const name = typeof this === 'function' ? disguised.get(this) : undefined;
      if (name !== undefined) return `function ${name}() { [native code] }`;
      return origToString.call(this as () => void);
    },
  }.toString;
  const define = (fn: object, name: string, length: number): void => {
    Object.defineProperty(fn, 'name', { value: name, configurable: true });
    Object.defineProperty(fn, 'length', { value: length, configurable: true });
    disguised.set(fn, name);
  };
  define(toString, 'toString', 0);
  Object.defineProperty(Function.prototype, 'toString', { value: toString, writable: true, configurable: true, enumerable: false });
  return {
    native(fn, name, length) {
      // Built-in methods have no `prototype`, are not constructors and inherit straight from
      // Function.prototype; a `function` or an `async function` gives itself away on each.
      // A method definition has that shape, so the replacement is one that forwards to `fn`.
      const method = {
        [name](this: unknown, ...args: unknown[]): unknown {
          return apply(fn as unknown as (...a: unknown[]) => unknown, this, args);
        },
      }[name]!;
      define(method, name, length);
      return method as unknown as typeof fn;
    },
  };
}

/** Replaces a method on a prototype keeping its property attributes. */
export function replaceMethod(target: object, key: string, fn: unknown): void {
  const d = Object.getOwnPropertyDescriptor(target, key);
  Object.defineProperty(target, key, {
    value: fn,
    writable: d?.writable ?? true,
    configurable: d?.configurable ?? true,
    enumerable: d?.enumerable ?? false,
  });
}

/** Replaces an accessor's getter on a prototype keeping its setter and attributes. */
export function replaceGetter(target: object, key: string, get: () => unknown): void {
  const d = Object.getOwnPropertyDescriptor(target, key);
  if (!d) return;
  Object.defineProperty(target, key, { ...d, get });
}

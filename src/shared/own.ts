/**
 * Reading a message field without touching anything a page can replace: the built-ins are
 * captured when the module loads (in the MAIN world at document_start, before any page script;
 * see src/page/interception/page-natives.ts), so a getter a page puts on Object.prototype is
 * never run. Safe in every context.
 */
const apply = Reflect.apply;
const getOwn = Object.getOwnPropertyDescriptor;
const hasOwnProperty = Object.prototype.hasOwnProperty;

/** `o[key]` when `o` has it as its own property, else undefined (never a getter on a prototype). */
export function own(o: unknown, key: string): unknown {
  if (typeof o !== 'object' || o === null || !apply(hasOwnProperty, o, [key])) return undefined;
  const d = getOwn(o, key);
  return d && 'value' in d ? d.value : undefined;
}

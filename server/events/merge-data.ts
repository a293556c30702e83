/**
 * Shallow merge of data objects, later ones winning, as `{ ...a, ...b }` would, at Object.assign's speed
 * (V8 copies plain objects with Object.assign several times faster than a spread followed by more
 * properties, and contexts are copied for every event and every rendered template). Object.assign would
 * treat an own `__proto__` key (a JSON payload may carry one) as the prototype setter, so such objects
 * take the spread. Pure.
 */
export function mergeData<T extends object>(...parts: ReadonlyArray<object | undefined>): T {
  for (const part of parts) {
    if (part !== undefined && Object.hasOwn(part, "__proto__")) {
      return parts.reduce<object>((merged, next) => ({ ...merged, ...next }), {}) as T;
    }
  }
  return Object.assign({}, ...parts) as T;
}

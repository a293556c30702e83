/** Where an event's records live in Redis, under the configured prefix. */
export function traceKeys(prefix: string) {
  return {
    trace: (id: string) => `${prefix}:trace:${id}`,
    index: `${prefix}:index:events`,
    dedup: (hash: string) => `${prefix}:dedup:${hash}`,
    nonce: (family: string, nonce: string) => `${prefix}:nonce:${family}:${nonce}`,
  };
}

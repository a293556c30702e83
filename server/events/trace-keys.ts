/** Where an event's records live in Redis, under the configured prefix. */
export function traceKeys(prefix: string) {
  return {
    trace: (id: string) => `${prefix}:trace:${id}`,
    tracePrefix: `${prefix}:trace:`,
    index: `${prefix}:index:events`,
    dedup: (hash: string) => `${prefix}:dedup:${hash}`,
    nonce: (family: string, nonce: string) => `${prefix}:nonce:${family}:${nonce}`,
    /** bull's key for a job of the events queue */
    eventJobPrefix: `${prefix}:events:`,
  };
}

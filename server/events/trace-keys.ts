/** Where an event's records live in Redis, under the configured prefix. */
export function traceKeys(prefix: string) {
  return {
    trace: (id: string) => `${prefix}:trace:${id}`,
    index: `${prefix}:index:events`,
    /**
     * The calls' index of one day (UTC, of the receive time): a hash of CallUUID → the ids of its events
     * (space-separated), kept a retention past the day's end. A hash per day, not a key per call: a key
     * costs about twice a hash field (bench memory).
     */
    calls: (day: string) => `${prefix}:calls:${day}`,
    dedup: (hash: string) => `${prefix}:dedup:${hash}`,
    nonce: (family: string, nonce: string) => `${prefix}:nonce:${family}:${nonce}`,
  };
}

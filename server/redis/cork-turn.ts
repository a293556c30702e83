/**
 * Every command a connection sends during one turn of the event loop leaves in one write system call:
 * the first command of a turn corks the connection's socket and a setImmediate (run after the loop has
 * handled every socket that was ready) uncorks it, so Node hands the whole turn's commands to the kernel
 * in one writev. Under load a turn serves several requests and deliveries, and each write call cost about
 * as much as the rest of a command's client-side work (docs/BENCHMARKS.md). Replies, errors, timeouts
 * and reconnects stay ioredis' own: only the moment the bytes leave changes, never their order.
 * (ioredis' autopipelining batches only within one tick and makes a Pipeline object per batch.)
 */
import type { Redis } from "ioredis";

export function corkEachTurn(client: Redis): void {
  let corked: Redis["stream"] | undefined;
  const uncork = (): void => {
    const stream = corked;
    corked = undefined;
    stream?.uncork();
  };
  const send = client.sendCommand.bind(client);
  client.sendCommand = (...args) => {
    if (corked === undefined && client.status === "ready" && client.stream?.writable) {
      corked = client.stream;
      corked.cork();
      setImmediate(uncork);
    }
    return send(...args);
  };
}

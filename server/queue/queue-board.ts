/**
 * The bull-board adapters for Switchboard's queues (SPEC §7 `GET /admin/queues`). bull stays behind this
 * directory: the HTTP layer mounts the board with the adapters it gets here and never sees a bull queue.
 * The board's queues are producing sides on the process's shared producer connection (no new connection,
 * no timers, nothing consumed), so there is nothing of theirs to close: bull leaves clients it was given
 * through `createClient` to their owner, and closing the connections closes them. bull-board is loaded on
 * the board's first request, not at start: it adds seconds to a start on a busy machine.
 */
import type { BullAdapter } from "@bull-board/api/bullAdapter";
import Bull from "bull";
import type { RedisConnections } from "../redis/redis-connections.ts";
import { QUEUE_NAMES } from "./job-types.ts";

/** what bull-board's createBullBoard takes, without naming bull */
export type QueueBoardAdapter = BullAdapter;

/** builds the adapters once, when first asked */
export function queueBoardAdapters(
  connections: Pick<RedisConnections, "bullClientFactory">,
  options: { prefix: string },
): () => Promise<QueueBoardAdapter[]> {
  let adapters: Promise<QueueBoardAdapter[]> | undefined;
  return () =>
    (adapters ??= import("@bull-board/api/bullAdapter").then(({ BullAdapter }) =>
      Object.values(QUEUE_NAMES).map(
        (name) =>
          new BullAdapter(
            new Bull(name, {
              prefix: options.prefix,
              createClient: connections.bullClientFactory("producer"),
            }),
            { description: name === QUEUE_NAMES.events ? "events to decide" : "deliveries (forward, vobiz)" },
          ),
      ),
    ));
}

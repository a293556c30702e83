import { watch, type FSWatcher } from "node:fs";
import type { Logger } from "../logger.ts";

/**
 * RULES_WATCH=true (development): calls `reload` once a burst of file changes under the rule and template
 * folders has settled (250 ms), so saving several files reloads once. The reload validates as usual.
 */
export function watchRules(
  dirs: readonly string[],
  reload: () => void,
  log: Logger,
  settleMs = 250,
): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const changed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(reload, settleMs);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      const watcher = watch(dir, { recursive: true }, changed);
      // a folder removed or renamed while watched (an editor's save, a git checkout): Node's recursive
      // watcher reports it here; without a listener it would end the process
      watcher.on("error", (error) => {
        log.warn({ err: error, dir }, "RULES_WATCH: a watched folder changed under the watcher; reloading");
        changed();
      });
      watchers.push(watcher);
    } catch (error) {
      log.warn({ err: error, dir }, "RULES_WATCH: cannot watch this folder");
    }
  }
  log.info({ dirs }, "RULES_WATCH: reloading on file changes");
  return {
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

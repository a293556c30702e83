import { readFileSync } from "node:fs";

/** Switchboard's version, from package.json (sent as `User-Agent: Switchboard/<version>`). */
export const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

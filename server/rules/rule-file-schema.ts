import { readFileSync } from "node:fs";

/** The rule-file JSON Schema (draft 2020-12), published as server/rules/rule-file.schema.json. */
const schema = JSON.parse(
  readFileSync(new URL("./rule-file.schema.json", import.meta.url), "utf8"),
) as Record<string, unknown>;
export default schema;

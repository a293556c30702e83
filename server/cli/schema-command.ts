/** `switchboard schema`: prints the rule-file JSON Schema (the file editors read through `$schema`). */
import schema from "../rules/rule-file-schema.ts";
import type { CliCommand } from "./cli-command.ts";

export const schemaCommand: CliCommand = {
  name: "schema",
  summary: "print the rule-file JSON Schema (for editors)",
  usage: "schema",
  description:
    "Prints the JSON Schema (draft 2020-12) that rule files are checked against. Save it in a rules\n" +
    'repository and point "$schema" or VS Code\'s json.schemas at it to get validation and completion.',
  options: {},
  optionHelp: {},
  maxPositionals: 0,
  run(_args, io) {
    io.stdout(`${JSON.stringify(schema, null, 2)}\n`);
    return Promise.resolve(0);
  },
};

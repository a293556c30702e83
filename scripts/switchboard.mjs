#!/usr/bin/env node
// The `switchboard` command (package.json "bin"): plain Node loads the TypeScript CLI through tsx's API, so
// `npx switchboard` works after `npm install`, from this checkout or from a rules repository that depends
// on Switchboard. The commands live in server/cli/.
/* global process, AbortController */
import { tsImport } from "tsx/esm/api";

const { runCli } = await tsImport("../server/cli/run-cli.ts", import.meta.url);
const controller = new AbortController();
process.once("SIGINT", () => controller.abort());
process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  signal: controller.signal,
});

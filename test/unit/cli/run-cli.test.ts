import assert from "node:assert/strict";
import { test } from "node:test";
import { runBin, runCommand } from "../../helpers/cli.ts";
import { REPO } from "../../helpers/rules.ts";

test("switchboard --help (the real bin, plain node) lists every command", async () => {
  const run = await runBin(["--help"], { cwd: REPO });
  assert.equal(run.code, 0, run.stderr);
  for (const name of ["check", "test", "schema"]) assert.match(run.stdout, new RegExp(`^  ${name} `, "m"));
});

test("every command has --help, exit 0, naming its options", async () => {
  const help = await runCommand(["--help"]);
  const names = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1] ?? "");
  assert.ok(names.length >= 3);
  for (const name of names) {
    const run = await runCommand([name, "--help"]);
    assert.equal(run.code, 0, name);
    assert.match(run.stdout, new RegExp(`^Usage: switchboard ${name}`, "m"));
    assert.match(run.stdout, /--help/);
  }
});

test("usage errors exit 2 and say what was wrong: unknown command, unknown option, extra argument", async () => {
  const unknown = await runCommand(["chekc"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "chekc"/);
  const option = await runCommand(["check", "--jsn"]);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /Unknown option '--jsn'/);
  const extra = await runCommand(["schema", "extra"]);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /too many arguments: extra/);
  assert.equal((await runCommand([])).code, 2);
});

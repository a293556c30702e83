import assert from "node:assert/strict";
import { test } from "node:test";
import { checkVobizParams, finishVobizParams } from "../../../server/actions/check-vobiz-params.ts";
import { VOBIZ_ACTIONS, VOBIZ_CATALOGUE } from "../../../server/actions/vobiz-catalogue.ts";

const messages = (name: Parameters<typeof checkVobizParams>[0], params: Record<string, unknown>): string[] =>
  checkVobizParams(name, params).map((p) => `${p.code} ${p.pointer}: ${p.message}`);

test("the eleven actions, each with its own schema", () => {
  assert.equal(VOBIZ_ACTIONS.length, 11);
  for (const name of VOBIZ_ACTIONS) assert.equal(VOBIZ_CATALOGUE[name].schema.additionalProperties, false);
});

test("required params are named, with what they should hold", () => {
  assert.deepEqual(messages("speak", {}), [
    'RULE_VOBIZ_PARAM_INVALID /params: speak needs "text" (the text to speak)',
  ]);
  assert.match(messages("dtmf", {}).join("\n"), /dtmf needs "digits"/);
  const call = messages("make_call", {}).join("\n");
  assert.match(call, /needs "from"/);
  assert.match(call, /needs "to"/);
  assert.match(call, /needs one of "flow" or "answer_url"/);
  assert.match(
    messages("make_call", { from: "a", to: "b", flow: "x", answer_url: "https://x" })[0] ?? "",
    /not both/,
  );
  assert.match(messages("transfer", { legs: "aleg" })[0] ?? "", /needs one of "aleg_url" or "bleg_url"/);
  assert.match(
    messages("whatsapp_message", { to: "+919876543210" }).join("\n"),
    /needs "channel_id".*\n.*needs "type"/,
  );
  assert.deepEqual(messages("hangup", {}), []);
});

test("an unknown param is refused with the nearest known name, or the list when none is near", () => {
  assert.deepEqual(messages("dtmf", { digits: "1", legs: "bleg" }), [
    'RULE_VOBIZ_UNKNOWN_PARAM /params/legs: dtmf has no param "legs"; did you mean "leg"?',
  ]);
  assert.match(messages("speak", { text: "x", voise: "MAN" })[0] ?? "", /did you mean "voice"\?/);
  assert.match(
    messages("hangup", { reason: "x" })[0] ?? "",
    /hangup has no param "reason"; its params are call_uuid/,
  );
  assert.match(
    messages("make_call", { from: "a", to: "b", flow: "x", hangup_url: "https://x" })[0] ?? "",
    /no param "hangup_url"/,
  );
});

test("values written in the rule are checked at load: legs, voice, file_format, DTMF digits, URLs", () => {
  assert.match(
    messages("speak", { text: "x", legs: "cleg" })[0] ?? "",
    /\/params\/legs: speak: "cleg" is not allowed; use one of "aleg", "bleg", "both"/,
  );
  assert.match(
    messages("speak", { text: "x", voice: "GIRL" })[0] ?? "",
    /use one of "WOMAN", "MAN", "Polly"/,
  );
  assert.match(messages("record_start", { file_format: "ogg" })[0] ?? "", /"mp3", "wav"/);
  assert.match(messages("dtmf", { digits: "12a" })[0] ?? "", /"12a" is not digits 0-9, \*, #, w or W/);
  assert.deepEqual(messages("dtmf", { digits: "0123456789*#wW" }), []);
  assert.match(messages("transfer", { aleg_url: "ftp://x" })[0] ?? "", /"ftp:\/\/x" is not an http\(s\) URL/);
  assert.match(messages("speak", { text: "x", loop: "yes" })[0] ?? "", /loop: speak: must be boolean/);
});

test("a templated value is checked once rendered: typed as the schema says, refused when it does not fit", () => {
  assert.deepEqual(messages("speak", { text: "<<Note>>", loop: "<<Loop>>", voice: "<<Voice>>" }), []);
  assert.deepEqual(finishVobizParams("speak", { text: "hi", loop: "true", voice: "MAN", call_uuid: "c" }), {
    text: "hi",
    loop: true,
    voice: "MAN",
    call_uuid: "c",
  });
  assert.deepEqual(finishVobizParams("record_start", { time_limit: "60", call_uuid: "c" }), {
    time_limit: 60,
    call_uuid: "c",
  });
  assert.throws(
    () => finishVobizParams("speak", { text: "hi", voice: "GIRL", loop: "maybe" }),
    /the rendered params of speak do not fit: \/voice: "GIRL" is not allowed.*; \/loop: must be boolean/,
  );
  // an optional param whose template rendered nothing is left out; a required one is not
  assert.deepEqual(finishVobizParams("speak", { text: "hi", language: "" }), { text: "hi" });
  assert.throws(() => finishVobizParams("speak", { text: "" }), /text: must not be empty/);
});

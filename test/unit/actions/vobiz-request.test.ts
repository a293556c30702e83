import assert from "node:assert/strict";
import { test } from "node:test";
import { buildVobizRequest, markUrl, showVobizRequest } from "../../../server/actions/vobiz-request.ts";

const OPTIONS = { authId: "MA_X", publicUrl: "https://sb.example.com", hop: 2, callId: "call_1" };

test("paths are PascalCase with a trailing slash, the call's UUID encoded; DELETEs have no body", () => {
  const cases: Array<[Parameters<typeof buildVobizRequest>[0], string, string]> = [
    ["hangup", "DELETE", "/api/v1/Account/MA_X/Call/a%2Fb/"],
    ["transfer", "POST", "/api/v1/Account/MA_X/Call/a%2Fb/"],
    ["speak", "POST", "/api/v1/Account/MA_X/Call/a%2Fb/Speak/"],
    ["speak_stop", "DELETE", "/api/v1/Account/MA_X/Call/a%2Fb/Speak/"],
    ["play", "POST", "/api/v1/Account/MA_X/Call/a%2Fb/Play/"],
    ["play_stop", "DELETE", "/api/v1/Account/MA_X/Call/a%2Fb/Play/"],
    ["dtmf", "POST", "/api/v1/Account/MA_X/Call/a%2Fb/DTMF/"],
    ["record_start", "POST", "/api/v1/Account/MA_X/Call/a%2Fb/Record/"],
    ["record_stop", "DELETE", "/api/v1/Account/MA_X/Call/a%2Fb/Record/"],
    ["make_call", "POST", "/api/v1/Account/MA_X/Call/"],
    ["whatsapp_message", "POST", "/api/v1/messaging/messages"],
  ];
  for (const [name, method, path] of cases) {
    const request = buildVobizRequest(name, { call_uuid: "a/b", flow: "x" }, OPTIONS);
    assert.equal(request.method, method, name);
    assert.equal(request.path, path, name);
    if (method === "DELETE") assert.equal(request.body, undefined, name);
    else assert.equal((request.body ?? {}).call_uuid, undefined, `${name}: call_uuid is in the path only`);
  }
});

test("only URLs that point at Switchboard carry the hop count", () => {
  assert.equal(
    markUrl("https://sb.example.com/answer/vip", OPTIONS),
    "https://sb.example.com/answer/vip?sb_hop=2",
  );
  assert.equal(
    markUrl("https://sb.example.com/a?x=1&sb_hop=9", OPTIONS),
    "https://sb.example.com/a?x=1&sb_hop=2",
  );
  assert.equal(
    markUrl("https://sb.example.com.evil.example/a", OPTIONS),
    "https://sb.example.com.evil.example/a",
  );
  assert.equal(markUrl("https://crm.example.com/x", OPTIONS), "https://crm.example.com/x");
});

test("make_call: answer, ring and hangup URLs at Switchboard with the call's id; status settings stored, not sent", () => {
  const request = buildVobizRequest(
    "make_call",
    { from: "+1", to: "+2", flow: "sales", status_url: "https://crm/x", status_events: ["Hangup"] },
    OPTIONS,
  );
  assert.deepEqual(request.body, {
    from: "+1",
    to: "+2",
    answer_url: "https://sb.example.com/answer/sales?call=call_1&sb_hop=2",
    answer_method: "POST",
    ring_url: "https://sb.example.com/events/calls?call=call_1&sb_hop=2",
    ring_method: "POST",
    hangup_url: "https://sb.example.com/events/calls?call=call_1&sb_hop=2",
    hangup_method: "POST",
  });
  assert.deepEqual(request.call, { id: "call_1", status_url: "https://crm/x", status_events: ["Hangup"] });
  const own = buildVobizRequest(
    "make_call",
    { from: "+1", to: "+2", answer_url: "https://ivr.example/a" },
    OPTIONS,
  );
  assert.equal((own.body ?? {}).answer_url, "https://ivr.example/a");
});

test("the dry run shows the account id and never the token", () => {
  const shown = showVobizRequest(buildVobizRequest("hangup", { call_uuid: "c" }, OPTIONS), "MA_X");
  assert.deepEqual(shown.headers, { "X-Auth-ID": "MA_X", "X-Auth-Token": "[redacted]" });
});

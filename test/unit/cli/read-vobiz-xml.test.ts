import assert from "node:assert/strict";
import { test } from "node:test";
import { heard, readVobizXml } from "../../../server/cli/read-vobiz-xml.ts";

test("a reply reads as the steps a call goes through, in order, with entities decoded", () => {
  const read = readVobizXml(`<?xml version="1.0"?>
<Response>
  <Gather action="https://sb.example.com/answer/x?a=1&amp;b=2" inputType="dtmf speech">
    <Speak>Press 1 &amp; wait</Speak>
  </Gather>
  <Dial callerId="+91800" action="/answer/x/dialled" method="GET"><Number>+91555</Number></Dial>
  <Record callbackUrl="/events/rec"/>
  <Hangup/>
</Response>`);
  assert.ok("verbs" in read);
  assert.deepEqual(read.verbs, [
    {
      kind: "gather",
      action: "https://sb.example.com/answer/x?a=1&b=2",
      method: "POST",
      inputType: "dtmf speech",
      prompts: [{ kind: "speak", text: "Press 1 & wait" }],
    },
    { kind: "dial", action: "/answer/x/dialled", method: "GET", callerId: "+91800", targets: ["+91555"] },
    { kind: "record", method: "POST", callbackUrl: "/events/rec", callbackMethod: "POST" },
    { kind: "hangup" },
  ]);
  assert.equal(heard({ kind: "speak", text: "Hi" }), '"Hi"');
});

test("XML that cannot be followed says why", () => {
  assert.match(
    String((readVobizXml("<Response><Speak>x</Response>") as { error?: string }).error),
    /not well-formed XML/,
  );
  assert.deepEqual(readVobizXml("<Reply/>"), { error: "the reply is not one <Response> element" });
  assert.deepEqual(readVobizXml("<Response/>"), { verbs: [] });
});

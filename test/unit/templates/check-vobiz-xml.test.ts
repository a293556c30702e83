/** Table-driven from reference/vobiz-platform.md §2: what Vobiz accepts and what it refuses, and why. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkVobizXml, rememberingXmlCheck } from "../../../server/templates/check-vobiz-xml.ts";

const VALID: Array<[string, string]> = [
  ["an empty Response", "<Response/>"],
  ["declaration and an empty Response", '<?xml version="1.0" encoding="UTF-8"?>\n<Response></Response>'],
  [
    "Speak with voice, language, loop",
    '<Response><Speak voice="MAN" language="en-GB" loop="2">Hello &amp; welcome</Speak></Response>',
  ],
  [
    "Gather with Speak and Play inside",
    '<Response><Gather action="https://x/g" method="POST" inputType="dtmf speech" executionTimeout="10" numDigits="1" finishOnKey="#"><Speak>Press 1</Speak><Play>https://x/a.mp3</Play></Gather></Response>',
  ],
  [
    "Dial with callerId, Number and User",
    '<Response><Dial callerId="+918040001234" timeout="30" action="https://x/d"><Number sendDigits="ww12">+919876543210</Number><User>sip:agent@example.com</User></Dial></Response>',
  ],
  ["Dial with a bare number", "<Response><Dial>+919876543210</Dial></Response>"],
  [
    "Record with its callback",
    '<Response><Record action="https://x/r" maxLength="120" playBeep="true" callbackUrl="https://x/cb" fileFormat="mp3"/></Response>',
  ],
  [
    "Conference with attributes",
    '<Response><Conference startConferenceOnEnter="true" endConferenceOnExit="false" waitSound="https://x/w">support-1</Conference></Response>',
  ],
  [
    "PreAnswer holding Speak and Wait",
    '<Response><PreAnswer><Speak>Hi</Speak><Wait length="2"/></PreAnswer><Hangup/></Response>',
  ],
  [
    "DTMF, Redirect, Hangup with reason",
    '<Response><DTMF async="true">12w3</DTMF><Redirect method="GET">https://x/next</Redirect><Hangup reason="busy"/></Response>',
  ],
  ["Stream", '<Response><Stream bidirectional="true" keepCallAlive="true">wss://x/s</Stream></Response>'],
  ["comments", "<Response><!-- menu --><Speak>Hi</Speak></Response>"],
];

const INVALID: Array<[string, string, RegExp]> = [
  ["not well-formed", "<Response><Speak>Hi</Response>", /not well-formed XML/],
  ["an unescaped &", "<Response><Speak>Fish & chips</Speak></Response>", /not well-formed XML/],
  ["a root other than Response", "<Speak>Hi</Speak>", /root must be one <Response>/],
  ["two roots", "<Response/><Response/>", /not well-formed|root must be one/],
  [
    "Plivo's timeout on Gather",
    '<Response><Gather timeout="5"/></Response>',
    /<Gather> has no attribute "timeout": .*executionTimeout/,
  ],
  [
    "Plivo's GetDigits",
    "<Response><GetDigits/></Response>",
    /<GetDigits> is not a Vobiz element: use <Gather>/,
  ],
  ["TwiML's Say", "<Response><Say>Hi</Say></Response>", /<Say> is not a Vobiz element: use <Speak>/],
  ["MultiPartyCall", "<Response><MultiPartyCall/></Response>", /no MultiPartyCall/],
  [
    "callerId on Number",
    '<Response><Dial><Number callerId="+91">1</Number></Dial></Response>',
    /set callerId on <Dial>/,
  ],
  [
    "Number outside Dial",
    "<Response><Number>1</Number></Response>",
    /<Number> cannot be inside <Response>; it belongs in <Dial>/,
  ],
  [
    "Dial inside Gather",
    "<Response><Gather><Dial>1</Dial></Gather></Response>",
    /<Dial> cannot be inside <Gather>/,
  ],
  ["Wait inside Gather", "<Response><Gather><Wait/></Gather></Response>", /<Wait> cannot be inside <Gather>/],
  ["attributes on Response", '<Response voice="MAN"/>', /<Response> has no attribute "voice"/],
  [
    "an unknown attribute",
    '<Response><Speak colour="blue">Hi</Speak></Response>',
    /<Speak> has no attribute "colour"; it takes voice, language, loop/,
  ],
  ["bare text in Response", "<Response>Hello</Response>", /holds no text; move the words into a <Speak>/],
  ["over 100 KB", `<Response><Speak>${"a".repeat(101 * 1024)}</Speak></Response>`, /at most 100 KB/],
];

for (const [name, xml] of VALID) {
  test(`valid: ${name}`, () => assert.deepEqual(checkVobizXml(xml), []));
}
for (const [name, xml, message] of INVALID) {
  test(`refused: ${name}`, () => {
    const problems = checkVobizXml(xml);
    assert.ok(problems.length > 0, "refused");
    assert.match(problems.map((p) => p.message).join("\n"), message);
  });
}

test("problems say where: the element path", () => {
  const [problem] = checkVobizXml(
    "<Response><Speak>a</Speak><Gather><Speak>b</Speak><Say>c</Say></Gather></Response>",
  );
  assert.equal(problem?.at, "Response/Gather[1]/Say[1]");
});

test("the remembering check gives the same verdicts as the check, every time it is asked", () => {
  const check = rememberingXmlCheck(2);
  const valid = VALID.map(([, xml]) => xml);
  const invalid = INVALID.map(([, xml]) => xml);
  for (let pass = 0; pass < 3; pass += 1) {
    for (const xml of [...valid, ...invalid]) assert.deepEqual(check(xml), checkVobizXml(xml));
  }
});

/**
 * Table-driven from reference/vobiz-platform.md §2 and the documents it cites (Vobiz's docs pages, their
 * examples, the official vobizxml builders): what Vobiz accepts, what it refuses, and what its own
 * documents disagree about (accepted with a warning that says why and what to write instead).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkVobizXml,
  inspectVobizXml,
  rememberingXmlCheck,
} from "../../../server/templates/check-vobiz-xml.ts";

/** Vobiz's own examples, as its pages print them (DOCS page in the name), and what the builders emit. */
const DOCUMENTED: Array<[string, string]> = [
  [
    "xml/record: record a voicemail",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Speak>Please leave a message after the beep. Press pound when finished.</Speak>
    <Record action="https://yourapp.com/recording-started" method="POST"
            callbackUrl="https://yourapp.com/recording-ready" callbackMethod="POST"
            maxLength="120" timeout="10" finishOnKey="#" playBeep="true"
            fileFormat="mp3"/>
    <Speak>Thank you. Goodbye.</Speak>
    <Hangup/>
</Response>`,
  ],
  [
    "xml/record: record the entire call session",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Record
        recordSession="true"
        callbackUrl="https://yourapp.com/recording-ready"
        callbackMethod="POST"
        redirect="false"
        playBeep="false"/>
    <Speak>This call is now being recorded for quality assurance.</Speak>
    <Dial callerId="+14155550100" timeout="30">
        <Number>+14155550101</Number>
    </Dial>
</Response>`,
  ],
  [
    "xml/record: record the answered leg of an outbound dial",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Dial>
        <Number>14155551234</Number>
    </Dial>
    <Record startOnDialAnswer="true" maxLength="600"
            action="https://yourapp.com/recording-started"
            callbackUrl="https://yourapp.com/recording-ready"/>
</Response>`,
  ],
  [
    "xml/record/stream-with-record: Record, then Stream as a sibling",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Play>https://yourcdn.com/play.wav</Play>
  <Record action="https://your-domain.com/record_action/" method="POST"
          callbackUrl="https://your-domain.com/record_callback/" callbackMethod="POST"
          recordSession="true" redirect="false"
          maxLength="3600" playBeep="true"/>
  <Stream bidirectional="true" keepCallAlive="true">wss://your-server.com/ws</Stream>
  <Play>https://yourcdn.com/play.wav</Play>
</Response>`,
  ],
  [
    "xml/stream: bidirectional audio stream",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Stream
bidirectional="true"
keepCallAlive="true"
statusCallbackUrl="https://yourapp.vobiz.ai/stream-status"
contentType="audio/x-l16;rate=16000">
wss://stream.vobiz.ai/stream
    </Stream>
</Response>`,
  ],
  [
    "xml/stream: both tracks with timeout",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Stream
audioTrack="both"
streamTimeout="3600"
statusCallbackUrl="https://yourapp.vobiz.ai/stream-status"
statusCallbackMethod="POST"
extraHeaders="session=abc123,user=john">
wss://stream.vobiz.ai/stream
    </Stream>
    <Speak>Thank you for calling. We're processing your request.</Speak>
</Response>`,
  ],
  [
    "xml/overview/best-practices: fallback after a Gather",
    `<Response>
    <Gather numDigits="1" executionTimeout="10" action="/menu">
        <Speak>Press 1 for sales, 2 for support.</Speak>
    </Gather>
    <!-- Fallback if no input received -->
    <Speak>We didn't receive your selection. Transferring to operator.</Speak>
    <Dial>+14155550000</Dial>
</Response>`,
  ],
  [
    "xml/overview/best-practices: confirmation pattern",
    `<Response>
    <Speak>You entered account number 1-2-3-4-5-6. Press 1 to confirm or 2 to re-enter.</Speak>
    <Gather numDigits="1" action="/confirm"/>
</Response>`,
  ],
  [
    "xml/speak/ssml: basic SSML",
    `<Response>
  <Speak voice="Polly.Amy">
    <prosody rate="medium">
    Hello and welcome to the Vobiz text-to-speech engine.
    <break/>
    <break/>
    We're now testing the
    <say-as interpret-as="spell-out">SSML</say-as>
    feature.
    </prosody>
  </Speak>
</Response>`,
  ],
  [
    "compare/plivo/call-control-xml: the IVR menu after porting",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Gather action="https://yourapp.com/menu-choice" method="POST"
            inputType="dtmf" numDigits="1" executionTimeout="10"
            digitEndTimeout="3" finishOnKey="#">
        <Speak>Press 1 for sales, 2 for support, or 0 for an operator.</Speak>
    </Gather>
    <Speak>We didn't receive your input. Goodbye.</Speak>
    <Hangup/>
</Response>`,
  ],
  [
    "compare/plivo/conferences: the builders' conference",
    `<Response>
  <Conference startConferenceOnEnter="false" maxParticipants="10"
              waitSound="https://yourapp.com/hold-music"
              callbackUrl="https://yourapp.com/conf-events">WeeklyStandup</Conference>
</Response>`,
  ],
  [
    "builders: addSpeak with { ssml } (written unescaped), inside a Gather",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Gather action="https://app/menu" inputType="dtmf" numDigits="1" executionTimeout="10">
        <Speak><speak><prosody rate="slow">Press <emphasis level="strong">1</emphasis></prosody><break time="500ms"/><p><s>For sales.</s></p><sub alias="Vobiz">VBZ</sub><phoneme alphabet="ipa" ph="t">t</phoneme><lang xml:lang="hi-IN">namaste</lang><amazon:effect name="whispered">psst</amazon:effect><w role="amazon:VB">read</w><mark name="m1"/></speak></Speak>
    </Gather>
    <Hangup/>
</Response>`,
  ],
  [
    "builders: Dial.addRecord puts Record inside Dial",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Dial callerId="+918040001234">
        <Number>+919876543210</Number>
        <Record startOnDialAnswer="true" callbackUrl="https://x/cb"/>
    </Dial>
</Response>`,
  ],
  [
    "builders: PreAnswer with Speak, Play, Wait",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <PreAnswer>
        <Speak>Please hold</Speak>
        <Play>https://x/a.mp3</Play>
        <Wait length="2"/>
    </PreAnswer>
</Response>`,
  ],
  [
    "xml/gather: collect a multi-digit number with finishOnKey",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Gather action="https://yourapp.com/account" method="POST"
            inputType="dtmf" numDigits="12" finishOnKey="#" executionTimeout="20">
        <Speak>Enter your account number, then press pound.</Speak>
    </Gather>
    <Redirect>https://yourapp.com/answer</Redirect>
</Response>`,
  ],
  [
    "xml/gather: collect speech input",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Gather action="https://yourapp.com/intent" method="POST"
            inputType="speech" language="en-US" speechEndTimeout="auto"
            hints="billing,support,sales">
        <Speak>In a few words, tell us what you're calling about.</Speak>
    </Gather>
    <Speak>Sorry, we didn't catch that.</Speak>
</Response>`,
  ],
  [
    "xml/dial: B-leg digits",
    `<?xml version="1.0" encoding="UTF-8"?>
    <Response>
      <Dial
          callerId="+14155550100"
          callbackUrl="https://example.com/dial-events"
          callbackMethod="POST"
          digitsMatchBLeg="456">
        <Number>+14155550101</Number>
      </Dial>
    </Response>`,
  ],
  [
    "xml/conference/attributes: participant XML with a comment before the root",
    `<?xml version="1.0" encoding="UTF-8"?>

<!-- Participant XML (plays hold music until moderator arrives) -->
<Response>
    <Speak>Please hold while we connect you to the conference.</Speak>
    <Conference
        startConferenceOnEnter="false"
        waitSound="https://yourapp.com/hold-music">
        WeeklyStandup
    </Conference>
</Response>`,
  ],
  [
    "xml/conference/attributes: the per-leg recording it recommends",
    `<Response><Record fileFormat="mp3" recordSession="true" redirect="false"
          playBeep="false" maxLength="3600"
          action="https://example.com/record-action"
          callbackUrl="https://example.com/record-callback" callbackMethod="POST"/><Conference>Room</Conference></Response>`,
  ],
  [
    "xml/dial/custom-caller-tone: Dial with dialMusic",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Dial
      callerId="+14155550100"
      timeout="30"
      dialMusic="https://example.com/dial-music">
    <Number>+14155550101</Number>
  </Dial>
</Response>`,
  ],
  [
    "xml/preanswer/notify-callers",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <PreAnswer>
        <Speak>This call will cost you $2 a minute.</Speak>
    </PreAnswer>
    <Speak>Hey, thanks for dropping by.</Speak>
</Response>`,
  ],
  [
    "xml/wait/machine-detection",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Wait length="5" silence="true" minSilence="2000"/>
</Response>`,
  ],
];

/** Accepted, but Vobiz's own documents disagree: each warning gives the reason and the alternative. */
const DISPUTED: Array<[string, string, RegExp]> = [
  [
    "timeout on Gather (best-practices examples use it; the attribute table and gotchas deny it)",
    `<Response><Gather numDigits="1" timeout="10" action="https://x/menu"><Speak>Press 1</Speak></Gather></Response>`,
    /<Gather> timeout: .*no "timeout".*write executionTimeout/,
  ],
  [
    "xml/speak/ssml: SSML with Gather, whose playBeep the Gather table does not have",
    `<Response>
  <Gather numDigits="1" playBeep="true">
  <Speak voice="Polly.Salli">
  <prosody rate="fast">
  Please press 1 to proceed.
  <break/>
  <break/>
  We're now testing the
  <say-as interpret-as="spell-out">SSML</say-as>
  feature.
  </prosody>
  </Speak>
  </Gather>
</Response>`,
    /<Gather> playBeep: .*put a <Play> of a beep/,
  ],
  [
    "Stream inside Record (an example of recording with a stream)",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Record action="https://x/record_action/" recordSession="true" redirect="false" maxLength="3600">
        <Stream bidirectional="true" keepCallAlive="true">wss://x/ws</Stream>
    </Record>
</Response>`,
    /<Stream> inside <Record>: .*write the sibling form/,
  ],
  [
    "enterSound on Conference",
    '<Response><Conference enterSound="beep:1">room</Conference></Response>',
    /<Conference> enterSound: .*do not exist on Vobiz.*beep="true"/,
  ],
  [
    "stayAlone on Conference",
    '<Response><Conference stayAlone="true">room</Conference></Response>',
    /<Conference> stayAlone: .*comparison pages say .*no "stayAlone".*attribute table documents it/,
  ],
  [
    "hangupOnStar on Conference",
    '<Response><Conference hangupOnStar="true">room</Conference></Response>',
    /<Conference> hangupOnStar: .*no such attribute/,
  ],
  [
    "recordFileFormat on Conference",
    '<Response><Conference record="true" recordFileFormat="wav">room</Conference></Response>',
    /<Conference> recordFileFormat: .*<Record recordSession="true" fileFormat="wav"\/> before <Conference>/,
  ],
  [
    "waitMethod on Conference",
    '<Response><Conference waitSound="https://x/w" waitMethod="GET">room</Conference></Response>',
    /<Conference> waitMethod: .*not implemented/,
  ],
  [
    "xml/dial: complete PSTN transfer with recording (sipHeaders without X-VH)",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Record
      fileFormat="mp3"
      recordSession="true"
      maxLength="3600"
      callbackUrl="https://example.com/recording-ready"
      callbackMethod="POST"
      redirect="false"
      playBeep="false"/>

  <Dial
      callerId="+14155550100"
      timeout="30"
      timeLimit="1800"
      sipHeaders="Reason=billing,Reference=abc123"
      callbackUrl="https://example.com/dial-events"
      callbackMethod="POST"
      action="https://example.com/dial-result"
      method="POST"
      redirect="false">
    <Number sendDigits="wwww2410">+14155550101</Number>
  </Dial>

  <Hangup/>
</Response>`,
    /<Dial> sipHeaders=.*write ReasonX-VH, ReferenceX-VH/,
  ],
  [
    "xml/conference/attributes: recorded conference with participant limit",
    `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Conference
        maxParticipants="10"
        record="true"
        recordFileFormat="wav"
        action="https://yourapp.example/conference-complete"
        method="POST"
        callbackUrl="https://yourapp.example/conference-events"
        callbackMethod="POST">
        BoardMeeting
    </Conference>
</Response>`,
    /<Conference> recordFileFormat: /,
  ],
  [
    "timeout on Number",
    '<Response><Dial><Number timeout="20">+919876543210</Number></Dial></Response>',
    /<Number> timeout: .*timeout on <Dial>/,
  ],
  [
    "xml/dial: sipHeaders keys without the X-VH suffix",
    '<Response><Dial sipHeaders="Reason=billing,TicketX-VH=42"><User>sip:agent@example.com</User></Dial></Response>',
    /<Dial> sipHeaders="Reason=billing,TicketX-VH=42": .*whole set is silently dropped.*write ReasonX-VH/,
  ],
];

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
    "Plivo's type on Gather",
    '<Response><Gather type="dtmf"/></Response>',
    /<Gather> has no attribute "type": use inputType/,
  ],
  [
    "a Vobiz element inside Speak",
    "<Response><Speak>Hi <Play>https://x/a.mp3</Play></Speak></Response>",
    /<Play> cannot be inside <Speak>, which holds text or SSML/,
  ],
  [
    "an unknown tag inside Speak's SSML",
    "<Response><Speak><speak><blink>Hi</blink></speak></Speak></Response>",
    /<blink> cannot be inside <Speak>/,
  ],
  [
    "SSML outside Speak",
    '<Response><break time="1s"/></Response>',
    /<break> is not a Vobiz element: it is SSML/,
  ],
  [
    "Speak inside Record",
    "<Response><Record><Speak>Hi</Speak></Record></Response>",
    /<Speak> cannot be inside <Record>/,
  ],
  [
    "Stream inside Gather",
    "<Response><Gather><Stream>wss://x/s</Stream></Gather></Response>",
    /<Stream> cannot be inside <Gather>; it belongs in <Response>/,
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

for (const [name, xml] of [...VALID, ...DOCUMENTED]) {
  test(`valid: ${name}`, () => assert.deepEqual(inspectVobizXml(xml), { problems: [], warnings: [] }));
}
for (const [name, xml, message] of DISPUTED) {
  test(`accepted with a warning: ${name}`, () => {
    const { problems, warnings } = inspectVobizXml(xml);
    assert.deepEqual(problems, [], "not refused");
    assert.deepEqual(checkVobizXml(xml), [], "the answer path sends it");
    assert.equal(warnings.length, 1, warnings.map((w) => w.message).join("\n"));
    assert.match(warnings[0]?.message ?? "", message);
  });
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
  const valid = [...VALID, ...DOCUMENTED, ...DISPUTED].map(([, xml]) => xml);
  const invalid = INVALID.map(([, xml]) => xml);
  for (let pass = 0; pass < 3; pass += 1) {
    for (const xml of [...valid, ...invalid]) assert.deepEqual(check(xml), checkVobizXml(xml));
  }
});

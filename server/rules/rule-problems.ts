/**
 * Problems found in rule files and templates, and warnings (TEMPLATE_XML_DISPUTED, RULE_SECRET_UNSET),
 * which have the same shape but never stop a load. Each has a stable code (docs/error-codes.md, "Rule file
 * problem codes", lists them; test/unit/rules/load-ruleset.test.ts keeps the two in sync), the file, where
 * in it, and a message that says what is wrong and what would be right.
 */
export const RULE_PROBLEM_CODES = {
  RULE_FILE_UNREADABLE: "the file could not be read",
  RULE_JSON_SYNTAX: "the file is not valid JSON",
  RULE_SCHEMA: "the file does not match the rule-file schema",
  RULE_DUPLICATE_ID: "two rules share an id",
  RULE_UNKNOWN_OPERATION: "a condition uses an operation JsonLogic (and Switchboard) does not have",
  RULE_INVALID_ARGUMENT:
    "an operation's argument cannot work (a bad or non-literal regular expression, time or time zone)",
  RULE_UNKNOWN_EVENT: "`on` names an event that is not a Vobiz event, an alias or a declared custom name",
  RULE_SECRET_UNSET:
    "a template uses secrets.NAME but SECRET_NAME is not set (a warning; an error under check --strict)",
  RULE_INVALID_PATH: "a path glob does not parse",
  RULE_UNKNOWN_PROFILE: "a forward names a profile that no file defines",
  RULE_TOO_MANY_CALLBACKS: "a callback event lists more than 10 profile ids and URLs",
  TEMPLATE_SYNTAX: "a template (file or inline) does not compile",
  TEMPLATE_MISSING: "an action names a template file that does not exist",
  TEMPLATE_RENDER: "a template fails when rendered against a sample event or a rule test",
  TEMPLATE_INVALID_XML: "a reply template renders something Vobiz would not accept",
  TEMPLATE_XML_DISPUTED:
    "a reply uses what Vobiz's own documents disagree about (a warning: the ruleset still loads)",
  RULE_TEST_FAILED: "a rule test's expectation does not hold",
  RULE_VOBIZ_UNKNOWN_PARAM:
    "a vobiz action has a param its Vobiz request does not take (the nearest known name is given)",
  RULE_VOBIZ_PARAM_INVALID:
    "a vobiz action misses a required param, or a param's value is not allowed (such as legs, voice, file_format, DTMF digits)",
} as const;

export type RuleProblemCode = keyof typeof RULE_PROBLEM_CODES;

export interface RuleProblem {
  /** path of the rule file or template, starting with the rules or templates folder's name */
  file: string;
  /** 1-based; 0 when the problem is about the whole file */
  line: number;
  column: number;
  /** JSON pointer into the file, "" for the whole file */
  pointer: string;
  code: RuleProblemCode;
  message: string;
}

/** `file:line:column code message`, the form editors and CI logs link. */
export function formatProblem(problem: RuleProblem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.column}` : problem.file;
  return `${where} ${problem.code} ${problem.pointer ? `at ${problem.pointer}: ` : ""}${problem.message}`;
}

import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

/**
 * E.164 for what Vobiz sends: `+919876543210`, `919876543210` (country code, no plus) or `07971442086`
 * (national). A number valid in `country` wins; otherwise (or with no country) the digits are read as
 * international.
 * "" when the value is not a phone number (SIP URIs, "anonymous", empty).
 */
const cache = new Map<string, string>();

export function toE164(value: unknown, country: string | undefined): string {
  if (typeof value !== "string") return "";
  const key = `${country}:${value}`;
  let found = cache.get(key);
  if (found === undefined) {
    found = parse(value, country);
    if (cache.size >= 10_000) cache.clear(); // numbers repeat (a call's events, busy lines): a small cache saves the parse
    cache.set(key, found);
  }
  return found;
}

function parse(value: string, country: string | undefined): string {
  const text = value.trim();
  if (text === "" || /[a-z@]/i.test(text)) return "";
  const national = parsePhoneNumberFromString(text, country as CountryCode);
  if (national?.isValid()) return national.number;
  const digits = text.replace(/[^\d]/g, "");
  if (!text.startsWith("+") && digits.length >= 8) {
    const international = parsePhoneNumberFromString(`+${digits}`);
    if (international?.isValid()) return international.number;
  }
  return "";
}

import type { ParsedAddress } from './destination.js';

/**
 * A phone number in E.164 form (+, then 8 to 15 digits), as SMS and voice store them. Spaces, dots,
 * dashes and brackets between digits are dropped, and Opsgenie's "countryCode-number" form (1-5551234567)
 * is read as +15551234567.
 */
export function parsePhoneNumber(input: string): ParsedAddress {
  const value = input.trim();
  const opsgenieForm = /^(\d{1,3})-([\d\s().-]+)$/.exec(value);
  const candidate = opsgenieForm
    ? `+${opsgenieForm[1]}${opsgenieForm[2]}`.replace(/[\s().-]/g, '')
    : value.replace(/[\s().-]/g, '');
  if (/^\+[1-9]\d{7,14}$/.test(candidate)) return { ok: true, address: candidate };
  return {
    ok: false,
    problem: `"${input}" is not a phone number in international (E.164) form: + then the country code and number, 8 to 15 digits, such as +14155550123.`,
  };
}

/**
 * What Vigil names and tags in a customer's AWS account for one integration. The templates and
 * `vigil aws setup` both take their names from here, so a stack deployed by hand and a run of the CLI
 * make the same things, and `vigil aws teardown` finds exactly what setup made.
 */

/** The tag every resource setup makes carries: teardown removes only what carries its integration's id. */
export const INTEGRATION_TAG = 'vigil:integration';
export const MANAGED_BY_TAG = 'vigil:managed-by';
export const MANAGED_BY = 'vigil aws setup';

export interface IntegrationRef {
  id: string;
  name: string;
}

/** The integration id without dashes: its first characters keep names unique per integration. */
function compactId(integrationId: string): string {
  return integrationId.replace(/[^A-Za-z0-9]/g, '');
}

export function shortId(integrationId: string): string {
  return compactId(integrationId).slice(0, 8).toLowerCase();
}

export interface ResourceNames {
  /** Security Hub custom action Id: up to 20 alphanumeric characters, unique per account and region. */
  customActionId: string;
  /** Shown in Security Hub's Actions menu: fewer than 20 characters. */
  customActionName: string;
  customActionDescription: string;
  topic: string;
  rule: string;
  /** The write-back role: its name must start with the prefix Vigil is configured to assume. */
  role: string;
  /** The role EventBridge assumes to call the API destination. */
  invokeRole: string;
  connection: string;
  apiDestination: string;
  /** The EventBridge target's id on the rule. */
  targetId: string;
}

export function resourceNames(integration: IntegrationRef, rolePrefix: string): ResourceNames {
  const short = shortId(integration.id);
  const label = integration.name.replace(/[^\w .-]+/g, ' ').trim() || 'Vigil';
  return {
    customActionId: `Vigil${compactId(integration.id).slice(0, 15)}`,
    customActionName: `Vigil ${label}`.slice(0, 19).trimEnd(),
    // Custom actions take no tags: the id and the marker here are what tell teardown the action is
    // this integration's, made by setup (a template's says neither, and stays with its stack).
    customActionDescription: awsDescription(
      `Send the finding to Vigil (integration ${integration.name}, ${integration.id}, ${MANAGED_BY})`,
      { maxLength: 512, keep: 'end' },
    ),
    topic: `vigil-securityhub-${short}`,
    rule: `vigil-securityhub-${short}`,
    role: `${rolePrefix}-${short}`.slice(0, 64),
    invokeRole: `VigilEventBridgeInvoke-${short}`,
    connection: `vigil-securityhub-${short}`,
    apiDestination: `vigil-securityhub-${short}`,
    targetId: 'vigil',
  };
}

export function integrationTags(integration: IntegrationRef): Record<string, string> {
  return { [INTEGRATION_TAG]: integration.id, [MANAGED_BY_TAG]: MANAGED_BY };
}

/** The rule's description: the same from the template and from setup, so a second run changes nothing. */
export function ruleDescription(integration: IntegrationRef): string {
  return awsDescription(`Security Hub findings to Vigil (integration ${integration.name})`, {
    maxLength: 512,
  });
}

/**
 * Characters every AWS description Vigil writes accepts. IAM's is the narrowest: tab, line breaks,
 * printable ASCII and Latin-1 (`[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`); Security Hub's
 * (`.*\S.*`) and EventBridge's (`.*`) take no line break, so none of these is kept either.
 */
const AWS_TEXT = /^[\u0020-\u007E\u00A1-\u00FF]$/;

/** Typographic characters people type in names (often by their keyboard's doing), said plainly. */
const PLAIN: Record<string, string> = {
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2018': "'",
  '\u2019': "'",
  '\u201A': "'",
  '\u201B': "'",
  '\u2032': "'",
  '\u201C': '"',
  '\u201D': '"',
  '\u201E': '"',
  '\u201F': '"',
  '\u2033': '"',
  '\u2026': '...',
  '\u2022': '*',
};

/** One character in the characters AWS takes: its plain or compatible form if it has one, else `?`. */
function awsCharacter(c: string): string {
  if (AWS_TEXT.test(c)) return c;
  // Line breaks, tabs and other control or space characters (no-break space too) separate words.
  if (/^[\p{Cc}\p{Z}]$/u.test(c)) return ' ';
  // Joiners, variation selectors and combining marks: part of the character before, which stays.
  if (/^[\p{Cf}\p{M}]$/u.test(c)) return '';
  const plain = PLAIN[c];
  if (plain !== undefined) return plain;
  // Fullwidth letters, ligatures, accented letters outside Latin-1: the same letters in it.
  const compatible = c.normalize('NFKD').replace(/\p{M}/gu, '');
  if (compatible !== '' && [...compatible].every((d) => AWS_TEXT.test(d))) return compatible;
  return '?';
}

/**
 * An integration's name, or a text that holds one, made fit for an AWS description: a name is
 * free text in Vigil (an em-dash, curly quotes, CJK, emoji, a pasted line break), and AWS refuses a
 * description with any character outside the set above, so `vigil aws setup` and a template stack failed
 * for such a name. Each other character becomes its plain form or `?`, runs of spaces one space, and the
 * text is cut to `maxLength` characters (and `maxBytes` UTF-8 bytes where AWS counts bytes), keeping its
 * start or, with keep 'end', its end.
 */
export function awsDescription(
  text: string,
  limits: { maxLength: number; maxBytes?: number; keep?: 'start' | 'end' },
): string {
  let safe = Array.from(text, awsCharacter).join('').replace(/ {2,}/g, ' ').trim();
  // Every character left is one UTF-16 unit (no surrogate pairs), so slicing never splits one.
  const cut = (s: string, n: number) => (limits.keep === 'end' ? s.slice(-n) : s.slice(0, n));
  safe = cut(safe, limits.maxLength);
  if (limits.maxBytes !== undefined)
    while (Buffer.byteLength(safe) > limits.maxBytes) safe = cut(safe, safe.length - 1);
  return safe;
}

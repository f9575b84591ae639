/**
 * Readable product names for findings that carry none. Apart because ASFF and OCSF findings both fall
 * back to it, and the list of AWS's own products changes on its own schedule.
 */

/** Readable names for AWS's own products, by the last segment of their ProductArn (a Map: keys come from outside). */
const AWS_PRODUCT_NAMES = new Map<string, string>([
  ['securityhub', 'Security Hub'],
  ['guardduty', 'GuardDuty'],
  ['inspector', 'Inspector'],
  ['macie', 'Macie'],
  ['config', 'Config'],
  ['access-analyzer', 'IAM Access Analyzer'],
  ['firewall-manager', 'Firewall Manager'],
  ['ssm-patch-manager', 'Systems Manager Patch Manager'],
  ['health', 'Health'],
  ['detective', 'Detective'],
]);

/**
 * A readable product name from a product ARN's last path segment:
 * `…:product/aws/guardduty` → "GuardDuty"; anything else by words: `…/product/acme/secure-pro` → "Secure Pro".
 */
export function productNameFromArn(productArn: string): string {
  const segment = productArn.split('/').pop() ?? productArn;
  const last = (segment.includes(':') ? segment.split(':').pop() : segment)?.trim() ?? '';
  const known = AWS_PRODUCT_NAMES.get(last.toLowerCase());
  if (known) return known;
  const words = last.split(/[-_\s]+/).filter((w) => w !== '');
  if (words.length === 0) return productArn;
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
}

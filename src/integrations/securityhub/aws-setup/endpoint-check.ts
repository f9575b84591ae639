import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SetupError } from './aws-errors.js';

/**
 * SNS delivers only to HTTPS URLs it can reach from the internet, and EventBridge's API destinations
 * likewise: a Vigil behind http:// or a private address would make a set-up that never receives a
 * finding. Said before anything is made.
 */

export type Lookup = (host: string) => Promise<{ address: string }[]>;

const defaultLookup: Lookup = (host) => dnsLookup(host, { all: true });

function isPrivate(address: string): boolean {
  if (isIP(address) === 4) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const v6 = address.toLowerCase();
  if (v6.startsWith('::ffff:')) return isPrivate(v6.slice(7));
  return v6 === '::1' || v6 === '::' || v6.startsWith('fc') || v6.startsWith('fd') || v6.startsWith('fe80');
}

export async function requirePublicHttps(url: string, lookup: Lookup = defaultLookup): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SetupError(`'${url}' is not a URL.`);
  }
  if (parsed.protocol !== 'https:')
    throw new SetupError(
      `Vigil's endpoint ${parsed.origin} is not HTTPS, and SNS and EventBridge deliver only to HTTPS: serve Vigil behind TLS and set VIGIL_PUBLIC_URL to its https:// address, then run again.`,
    );
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host)).map((a) => a.address);
  } catch (error) {
    throw new SetupError(
      `${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): SNS cannot reach a name that public DNS does not know. Publish it in DNS, or set VIGIL_PUBLIC_URL to the address the internet reaches Vigil at.`,
    );
  }
  const inside = addresses.filter(isPrivate);
  if (inside.length > 0)
    throw new SetupError(
      `${host} resolves to ${inside.join(', ')}, which the internet cannot reach, so SNS could not deliver to it: put Vigil behind a public HTTPS address (a load balancer or reverse proxy) and set VIGIL_PUBLIC_URL to it.`,
    );
}

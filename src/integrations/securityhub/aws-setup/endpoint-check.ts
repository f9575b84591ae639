import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isPrivateAddress } from '../../../notify/team-destinations/address-guard.js';
import { SetupError } from './aws-errors.js';

/**
 * SNS delivers only to HTTPS URLs it can reach from the internet, and EventBridge's API destinations
 * likewise: a Vigil behind http:// or a private address would make a set-up that never receives a
 * finding. Said before anything is made. "Private" is what team destinations refuse too (address-guard.ts):
 * loopback, private, link-local, shared and documentation ranges.
 */

export type Lookup = (host: string) => Promise<{ address: string }[]>;

const defaultLookup: Lookup = (host) => dnsLookup(host, { all: true });

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
  const inside = addresses.filter(isPrivateAddress);
  if (inside.length > 0)
    throw new SetupError(
      `${host} resolves to ${inside.join(', ')}, which the internet cannot reach, so SNS could not deliver to it: put Vigil behind a public HTTPS address (a load balancer or reverse proxy) and set VIGIL_PUBLIC_URL to it.`,
    );
}

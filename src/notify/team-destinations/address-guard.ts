import dns from 'node:dns';
import net from 'node:net';

/**
 * Keeps team destinations, and an organization's single sign-on provider (http/outbound-fetch.ts, guarded),
 * from being a way into the network Vigil runs in (SSRF): a URL an admin gives
 * must not reach loopback, private, link-local (the cloud metadata service at 169.254.169.254) or other
 * special-purpose addresses, neither as written nor once its name is resolved (a public name may resolve
 * to 10.0.0.5, and may change what it resolves to after it was checked, so the check is made again at
 * every connection, on the addresses actually connected to). An operator lets named hosts through with
 * VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS (a receiver on the same network, the tests' receiver on 127.0.0.1), and
 * single sign-on's with VIGIL_SSO_ALLOW_HOSTS.
 */

const BLOCKED = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  BLOCKED.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routed by some)
  ['ff00::', 8], // multicast
  ['2001:db8::', 32], // documentation
  ['100::', 64], // discard
  // RFC 8215's NAT64 prefix for a network's own translator: it may carry the IPv4 address at any of RFC
  // 6052's offsets, so the whole prefix is refused rather than one offset read.
  ['64:ff9b:1::', 48],
  // SIIT's IPv4-translated addresses (RFC 2765; ::ffff:0:a.b.c.d, one group longer than IPv4-mapped
  // ::ffff:a.b.c.d) and Teredo (RFC 4380), whose relay would carry the packet on to an IPv4 address
  // of its own: neither is a way to reach a public server directly.
  ['::ffff:0:0:0', 96],
  ['2001::', 32],
] as const) {
  BLOCKED.addSubnet(prefix, bits, 'ipv6');
}

/** The IPv4 address an IPv6 one carries (IPv4-mapped, IPv4-compatible, NAT64, 6to4), if it carries one. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (dotted) return dotted[1];
  const groups = expandIpv6(lower);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  // ::ffff:a.b.c.d and ::a.b.c.d (written in hex), 64:ff9b::a.b.c.d (NAT64).
  if (zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0)) return v4(groups[6] ?? 0, groups[7] ?? 0);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6] ?? 0, groups[7] ?? 0);
  // 2002:AABB:CCDD::/48 is 6to4 for AA.BB.CC.DD.
  if (groups[0] === 0x2002) return v4(groups[1] ?? 0, groups[2] ?? 0);
  return undefined;
}

function expandIpv6(address: string): number[] | undefined {
  if (!net.isIPv6(address) || address.includes('.')) return undefined;
  const [head = '', tail = ''] = address.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  const back = address.includes('::') ? parse(tail) : [];
  const fill = 8 - front.length - back.length;
  return [...front, ...Array<number>(Math.max(0, fill)).fill(0), ...back];
}

/** Whether an IP address is one Vigil must not send to unless its host is allowed. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (net.isIPv4(bare)) return BLOCKED.check(bare, 'ipv4');
  if (!net.isIPv6(bare)) return true;
  const v4 = embeddedIpv4(bare);
  if (v4 !== undefined) return !net.isIPv4(v4) || BLOCKED.check(v4, 'ipv4');
  return BLOCKED.check(bare, 'ipv6');
}

/** A hostname as the URL parser gives it, lower-cased, without IPv6 brackets or a trailing dot. */
export function bareHostname(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

/** Whether the host is one the operator allowed (itself or a subdomain of an entry). */
export function isAllowedHost(hostname: string, allowed: readonly string[]): boolean {
  const host = bareHostname(hostname);
  return allowed.some((entry) => host === entry || host.endsWith(`.${entry}`));
}

/** Names that never leave the machine or the site, whatever DNS says. */
function isLocalName(host: string): boolean {
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host.endsWith('.local') ||
    host.endsWith('.internal') ||
    !host.includes('.')
  );
}

/**
 * Why Vigil will not send to this host as written (an IP literal or a local name), or undefined. Names
 * are checked again when resolved ({@link guardedLookup}).
 */
export function hostProblem(hostname: string): string | undefined {
  const host = bareHostname(hostname);
  if (net.isIP(host)) {
    return isPrivateAddress(host)
      ? `${host} is a loopback, private or reserved address, which Vigil does not send to`
      : undefined;
  }
  if (isLocalName(host)) return `${host} is a local name, which Vigil does not send to`;
  return undefined;
}

/** The code of the guard's refusals, on the error or anywhere in its chain of causes. */
export const ADDRESS_REFUSED = 'EADDRNOTALLOWED';

/**
 * Why a name may not be sent to through a proxy, which resolves and connects itself, out of reach of
 * {@link guardedLookup}: it resolves here to a private address. A name this host cannot resolve is left to
 * the proxy (split DNS, where only the proxy sees outside); the proxy answers for what it connects to.
 * Refusing it would not stop a name's owner anyway: their DNS server may answer Vigil's query with a
 * public address and the proxy's with a private one, so a proxy that can reach private addresses must
 * refuse them itself (docs/configuration.md).
 */
export async function privateNameProblem(hostname: string): Promise<string | undefined> {
  const refusal = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
    guardedLookup()(bareHostname(hostname), { all: true }, (error) => resolve(error)),
  );
  return refusal?.code === ADDRESS_REFUSED ? refusal.message : undefined;
}

/** Whether an error is (or was caused by) the guard refusing an address. */
export function isAddressRefusal(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if ((e as NodeJS.ErrnoException).code === ADDRESS_REFUSED) return true;
  }
  return false;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net/tls connections that refuses names resolving to a private address: the check is
 * made on the very addresses the socket then connects to, so a name cannot pass the check and connect
 * elsewhere.
 */
export function guardedLookup(): net.LookupFunction {
  const lookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, []);
        return;
      }
      const bad = addresses.find((a) => isPrivateAddress(a.address));
      if (bad || addresses.length === 0) {
        const refusal: NodeJS.ErrnoException = new Error(
          bad
            ? `${hostname} resolves to ${bad.address}, a loopback, private or reserved address, which Vigil does not send to`
            : `${hostname} resolves to no address`,
        );
        refusal.code = ADDRESS_REFUSED;
        callback(refusal, []);
        return;
      }
      if (options.all) {
        callback(null, addresses);
        return;
      }
      const first = addresses[0];
      callback(null, first?.address ?? '', first?.family);
    });
  };
  return lookup as unknown as net.LookupFunction;
}

import { isIPv4, isIPv6 } from 'node:net';

/**
 * Whom the per-address sign-in limit counts an attempt against. An IPv4 address is one client; an IPv6
 * address is not, as anyone is handed a whole /64 (2^64 addresses) and may send each attempt from another
 * of them, so IPv6 is counted by its /64 prefix, written canonically ("2001:db8:1:2::/64"). An IPv4-mapped
 * IPv6 address (::ffff:192.0.2.1, as a dual-stack socket reports an IPv4 peer) is that IPv4 address. A
 * zone (fe80::1%eth0) is dropped. Anything else (not an address at all) is counted as itself.
 */
export function addressBucket(ip: string): string {
  if (isIPv4(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (!groups) return ip;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  const prefix = [...groups.slice(0, 4), 0, 0, 0, 0].map((g) => g.toString(16)).join(':');
  return `${canonicalIPv6(prefix)}/64`;
}

/** RFC 5952's form of a valid IPv6 address (lower case, longest run of zero groups as "::"). */
function canonicalIPv6(address: string): string {
  // The WHATWG URL parser's IPv6 parser and serializer; it writes an embedded IPv4 part in hex.
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(ip: string): number[] | undefined {
  const address = ip.split('%', 1)[0] ?? '';
  if (!isIPv6(address)) return undefined;
  // Only hex groups and at most one "::" are left to split once it is canonical.
  const [head = '', tail] = canonicalIPv6(address).split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  if (tail === undefined) return front;
  const back = parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/**
 * IP addresses and CIDR ranges, for the cidr operator. Apart because address parsing is a job of its
 * own that both validation (is the range well formed) and matching (is the address in it) need.
 */
import { invalid } from './invalid.js';

interface Cidr {
  bits: 32 | 128;
  network: bigint;
  maskBits: number;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)?.slice(1).map(Number);
  if (parts === undefined || parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string, last: boolean): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (last && i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) groups.push(parseInt(piece, 16));
      else return undefined;
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '', true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function parseIp(text: string): { bits: 32 | 128; value: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { bits: 32, value: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  return v6 === undefined ? undefined : { bits: 128, value: v6 };
}

export function parseCidr(text: string): Cidr {
  const parts = text.split('/');
  if (parts.length !== 2) invalid("Malformed CIDR, one '/' required");
  const [address = '', mask = ''] = parts;
  if (!/^\d{1,3}$/.test(mask)) invalid('Malformed CIDR, mask bits must be an integer');
  const ip = parseIp(address);
  if (ip === undefined) invalid(`Nonstandard IP address: ${address}`);
  const maskBits = Number(mask);
  if (maskBits > ip.bits) invalid(`Malformed CIDR, mask bits must be between 0 and ${ip.bits}`);
  return { bits: ip.bits, network: ip.value, maskBits };
}

export function cidrContains(cidr: unknown, address: string): boolean {
  if (typeof cidr !== 'string') return false;
  let range: Cidr;
  try {
    range = parseCidr(cidr);
  } catch {
    return false;
  }
  const ip = parseIp(address);
  if (ip === undefined || ip.bits !== range.bits) return false;
  const shift = BigInt(range.bits - range.maskBits);
  return ip.value >> shift === range.network >> shift;
}

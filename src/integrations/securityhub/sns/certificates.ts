import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { httpsGet } from '../../../http/outbound.js';
import { signingCertUrlProblem } from './urls.js';

function parseCertificate(pem: Buffer, source: string): X509Certificate {
  const text = pem.toString('utf8');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`${source} is not a PEM certificate.`);
  }
  try {
    return new X509Certificate(text);
  } catch (error) {
    throw new Error(`${source} is not a readable PEM certificate: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * The certificate could not be had just now (a timeout, DNS, a proxy, the host's 5xx, an unreadable
 * VIGIL_SNS_CERT_DIR): nothing is known about the message yet, so it is not to be refused for good. SNS
 * retries a 5xx and drops a 4xx, so this is answered with the former.
 */
export class CertificateUnavailable extends Error {
  override name = 'CertificateUnavailable';
}

/**
 * The SNS host answered that it has no such certificate (a 4xx other than 408 and 429): asking again
 * will not change that, so the message cannot be verified, ever. A fetch throws it to say so.
 */
export class CertificateNotServed extends Error {
  override name = 'CertificateNotServed';
}

/** Statuses that say "not now" rather than "no": the request timed out, or was throttled. */
const RETRYABLE_STATUS = new Set([408, 429]);

/**
 * The certificate in the SNS host's answer to GET `url`, or the error that says whether asking again may
 * help: a 4xx other than 408 and 429 is a {@link CertificateNotServed}, anything else a plain error.
 */
export function certificateIn(url: string, response: { status: number; body: Buffer }): Buffer {
  if (response.status === 200) return response.body;
  const message = `GET ${url} answered HTTP ${response.status}.`;
  if (response.status >= 400 && response.status < 500 && !RETRYABLE_STATUS.has(response.status))
    throw new CertificateNotServed(message);
  throw new Error(message);
}

async function fetchCertificate(url: string): Promise<Buffer> {
  return certificateIn(url, await httpsGet(url, { timeoutMs: 5_000, maxBytes: 64 * 1024 }));
}

export interface SnsCertificateStoreOptions {
  /** Read certificates from here (named by the URL's last path segment) instead of fetching them. */
  certDir?: string;
  /**
   * How to fetch a certificate URL's body. Default: httpsGet, 5 s timeout, 64 KiB cap. What it throws is
   * taken as {@link CertificateUnavailable} (worth a retry), unless it is a {@link CertificateNotServed}.
   */
  fetch?: (url: string) => Promise<Buffer>;
  /** How long a certificate stays cached. Default 24 h. */
  ttlMs?: number;
  /** Most certificates cached at once. Default 100. */
  maxEntries?: number;
}

interface CacheEntry {
  expiresAt: number;
  certificate: Promise<X509Certificate>;
}

/** SNS signing certificates by URL: cached, fetched once for concurrent callers, failures not cached. */
export class SnsCertificateStore {
  private readonly certDir: string | undefined;
  private readonly fetch: (url: string) => Promise<Buffer>;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(options: SnsCertificateStoreOptions = {}) {
    this.certDir = options.certDir;
    this.fetch = options.fetch ?? fetchCertificate;
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
    this.maxEntries = Math.max(1, options.maxEntries ?? 100);
  }

  get(url: string): Promise<X509Certificate> {
    const now = Date.now();
    const cached = this.cache.get(url);
    if (cached && cached.expiresAt > now) {
      // Most recently used goes to the back; the front is evicted first.
      this.cache.delete(url);
      this.cache.set(url, cached);
      return cached.certificate;
    }
    if (cached) this.cache.delete(url);

    const entry: CacheEntry = { expiresAt: now + this.ttlMs, certificate: this.load(url) };
    this.cache.set(url, entry);
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    entry.certificate.catch(() => {
      if (this.cache.get(url) === entry) this.cache.delete(url);
    });
    return entry.certificate;
  }

  private async load(url: string): Promise<X509Certificate> {
    const problem = signingCertUrlProblem(url);
    if (problem) throw new Error(problem);
    if (this.certDir !== undefined) {
      const name = new URL(url).pathname.split('/').pop() ?? '';
      if (!/^[A-Za-z0-9._-]+\.pem$/.test(name)) throw new Error(`${url} does not name a certificate file.`);
      const file = path.join(this.certDir, name);
      let pem: Buffer;
      try {
        pem = await fs.readFile(file);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Vigil's own directory: once the operator puts the certificate there, SNS's retry succeeds.
        throw new CertificateUnavailable(
          code === 'ENOENT'
            ? `The signing certificate file ${file} does not exist: put the certificate from ${url} there.`
            : `Could not read the signing certificate file ${file}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      return parseCertificate(pem, file);
    }
    let pem: Buffer;
    try {
      pem = await this.fetch(url);
    } catch (error) {
      if (error instanceof CertificateNotServed || error instanceof CertificateUnavailable) throw error;
      // A timeout, DNS, a proxy, a connection or TLS error, a 5xx: Vigil could not check, not "bad".
      throw new CertificateUnavailable((error as Error).message, { cause: error });
    }
    // What was fetched and is no certificate is an answer about the message: refused, not retried.
    return parseCertificate(pem, url);
  }
}

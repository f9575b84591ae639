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

async function fetchCertificate(url: string): Promise<Buffer> {
  const response = await httpsGet(url, { timeoutMs: 5_000, maxBytes: 64 * 1024 });
  if (response.status !== 200) throw new Error(`GET ${url} answered HTTP ${response.status}.`);
  return response.body;
}

export interface SnsCertificateStoreOptions {
  /** Read certificates from here (named by the URL's last path segment) instead of fetching them. */
  certDir?: string;
  /** How to fetch a certificate URL's body. Default: httpsGet, 5 s timeout, 64 KiB cap. */
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
        throw new Error(
          code === 'ENOENT'
            ? `The signing certificate file ${file} does not exist: put the certificate from ${url} there.`
            : `Could not read the signing certificate file ${file}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      return parseCertificate(pem, file);
    }
    return parseCertificate(await this.fetch(url), url);
  }
}

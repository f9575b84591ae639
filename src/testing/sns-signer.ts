import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringToSign, type SnsMessage } from '../integrations/securityhub/sns.js';

/**
 * Test support: a signing certificate of our own and messages signed the way SNS signs them, so tests and
 * benchmarks can produce SNS messages that verifySnsMessage accepts (with an SnsCertificateStore on certDir).
 */

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

/** YYMMDDHHMMSSZ, the UTCTime form `openssl ca -startdate/-enddate` takes. */
function utcTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    two(date.getUTCFullYear() % 100) +
    two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) +
    two(date.getUTCHours()) +
    two(date.getUTCMinutes()) +
    two(date.getUTCSeconds()) +
    'Z'
  );
}

/**
 * Writes `<dir>/<name>`, a self-signed certificate for an RSA 2048 key, valid from yesterday for 10 years, and
 * returns its path, the key (PEM) and the SNS-style URL whose last segment names it.
 */
export async function createTestSigningCertificate(
  dir: string,
  name = 'SimpleNotificationService-test.pem',
): Promise<{ certPath: string; keyPem: string; certUrl: string }> {
  await fs.mkdir(dir, { recursive: true });
  const work = await fs.mkdtemp(path.join(dir, '.openssl-'));
  try {
    const keyPath = path.join(work, 'key.pem');
    const csrPath = path.join(work, 'request.csr');
    const configPath = path.join(work, 'openssl.cnf');
    const outPath = path.join(work, 'cert.pem');
    await fs.writeFile(path.join(work, 'index.txt'), '');
    await fs.writeFile(path.join(work, 'serial'), `${crypto.randomBytes(8).toString('hex')}\n`);
    await fs.writeFile(
      configPath,
      [
        '[ca]',
        'default_ca = test_ca',
        '[test_ca]',
        `database = ${path.join(work, 'index.txt')}`,
        `serial = ${path.join(work, 'serial')}`,
        `new_certs_dir = ${work}`,
        'default_md = sha256',
        'policy = policy_any',
        'unique_subject = no',
        'x509_extensions = leaf',
        '[policy_any]',
        'commonName = supplied',
        '[leaf]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature',
        '[req]',
        'distinguished_name = dn',
        'prompt = no',
        '[dn]',
        'CN = sns.amazonaws.com',
        '',
      ].join('\n'),
    );
    await run(OPENSSL, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath]);
    await run(OPENSSL, ['req', '-new', '-config', configPath, '-key', keyPath, '-out', csrPath]);
    const now = Date.now();
    const day = 24 * 60 * 60 * 1000;
    await run(OPENSSL, [
      'ca',
      '-batch',
      '-notext',
      '-selfsign',
      '-config',
      configPath,
      '-keyfile',
      keyPath,
      '-in',
      csrPath,
      '-out',
      outPath,
      '-startdate',
      utcTime(new Date(now - day)),
      '-enddate',
      utcTime(new Date(now - day + 3652 * day)),
    ]);
    const certPath = path.join(dir, name);
    await fs.copyFile(outPath, certPath);
    const keyPem = await fs.readFile(keyPath, 'utf8');
    return { certPath, keyPem, certUrl: `https://sns.us-east-1.amazonaws.com/${name}` };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Fills SignatureVersion, SigningCertURL and Signature as SNS would (v1 SHA1withRSA, v2 SHA256withRSA). */
export function signSnsMessage(
  fields: Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>,
  keyPem: string,
  certUrl: string,
  version: '1' | '2' = '1',
): SnsMessage {
  const message: SnsMessage = {
    ...fields,
    SignatureVersion: version,
    SigningCertURL: certUrl,
    Signature: '',
  };
  message.Signature = crypto
    .sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(stringToSign(message), 'utf8'), keyPem)
    .toString('base64');
  return message;
}

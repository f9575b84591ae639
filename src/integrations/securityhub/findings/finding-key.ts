/**
 * A finding's identity and the digest Vigil keys it by. Apart from the readers because the repository,
 * the sync and a migration's test need the digest without reading any event.
 */
import { createHash } from 'node:crypto';

/** What identifies a finding: ASFF Id + ProductArn; for OCSF finding_info.uid + metadata.product.uid. */
export interface FindingKey {
  id: string;
  productArn: string;
}

/**
 * What Vigil keys a finding by: SHA-256 over the SHA-256 of its ProductArn and that of its Id (UTF-8), so
 * that identifiers of any length fit an index (Security Hub allows 512 characters; a sender may send more)
 * and no two different pairs can run together (as "a\nb" + "c" and "a" + "b\nc" would, joined by a newline).
 * Migration 0007 computes the same in SQL for the findings that existed before it.
 */
export function findingKeyDigest(key: FindingKey): string {
  // A finding's key is asked for its digest several times on its way (ordering, locks, state, alias):
  // each key object computes it once, and again only if its identifiers changed meanwhile.
  const known = digests.get(key);
  if (known && known.productArn === key.productArn && known.id === key.id) return known.digest;
  const part = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  const digest = createHash('sha256').update(part(key.productArn)).update(part(key.id)).digest('hex');
  digests.set(key, { productArn: key.productArn, id: key.id, digest });
  return digest;
}

const digests = new WeakMap<FindingKey, { productArn: string; id: string; digest: string }>();

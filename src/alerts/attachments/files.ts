import { storableText } from '../../db/storable.js';

/**
 * What a file's name and type may be once stored, and how a download presents them. An upload's name and
 * type are whatever its sender wrote: they are cleaned once, on the way in, and the served type is chosen
 * again on the way out, so a file can never be served as something a browser would run.
 */

export const MAX_FILE_NAME = 255;

/** Control characters (C0, DEL, C1) and the bidirectional overrides that make a name read as another. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The name a file is stored under: its last path segment (a client may send `C:\logs\app.log` or
 * `../../etc/passwd`), without control characters, at most 255 characters (code points, the extension
 * kept), and never empty or a dot name.
 */
export function cleanFileName(raw: string | undefined): string {
  const last = (raw ?? '').split(/[/\\]/).pop() ?? '';
  let name = storableText(last).replace(UNPRINTABLE, '').trim();
  if (name === '' || /^\.+$/.test(name)) name = 'attachment';
  const chars = Array.from(name);
  if (chars.length <= MAX_FILE_NAME) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? Array.from(name.slice(dot)) : [];
  // A long "extension" is part of the name, not something to keep.
  const keep = extension.length > 0 && extension.length <= 16 ? extension : [];
  return chars.slice(0, MAX_FILE_NAME - keep.length).join('') + keep.join('');
}

/** type/subtype as RFC 9110 spells a media type, lowercase, without parameters. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

export const OCTET_STREAM = 'application/octet-stream';

/** The content type an upload is stored with: the sender's, when it is a media type, else octet-stream. */
export function cleanContentType(raw: string | undefined): string {
  const type = (raw ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return MEDIA_TYPE.test(type) ? type : OCTET_STREAM;
}

/**
 * Types served as they were stored: data a browser shows or saves but never runs. Anything else (HTML,
 * SVG, XML, JavaScript, and every type not named here) is served as application/octet-stream, so even a
 * browser that ignored Content-Disposition would not render it in Vigil's origin.
 */
const PASSIVE_TYPES = new Set([
  'text/plain',
  'text/csv',
  'application/json',
  'application/pdf',
  'application/zip',
  'application/gzip',
  'application/x-gzip',
  'application/x-tar',
  'application/octet-stream',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
]);

export function servedContentType(stored: string): string {
  return PASSIVE_TYPES.has(stored) ? stored : OCTET_STREAM;
}

/**
 * `Content-Disposition: attachment` with the name twice (RFC 6266 §4.3): an ASCII stand-in for old
 * clients and the exact name in RFC 8187 encoding.
 */
export function attachmentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

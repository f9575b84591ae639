import multipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { storableText } from '../../db/storable.js';
import { ApiError } from '../../http/errors.js';
import { StringEnum } from '../../http/schemas.js';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import type { Clock } from '../../work/clock.js';
import { fitActorText } from '../limits.js';
import type { IdentifierType } from '../repository.js';
import { attachmentDisposition, servedContentType } from './files.js';
import { ATTACHMENT_LINK_PATH } from './links.js';
import type { AttachmentsService, DownloadHead } from './service.js';

/**
 * Opsgenie's alert attachment endpoints, and the download links Get Alert Attachment hands out. Only the
 * upload reads multipart/form-data: its parser is registered in a scope of its own, so no other route
 * accepts a form, and the upload accepts nothing else.
 */

const IdentifierTypes = ['id', 'tiny', 'alias'] as const;

/** Opsgenie's SDKs name the alert's identifier type `alertIdentifierType` here; `identifierType` works too. */
const AlertIdentifierQuery = {
  alertIdentifierType: Type.Optional(
    StringEnum(IdentifierTypes, {
      description: "id (the default), tiny or alias; Opsgenie's name for it here",
    }),
  ),
  identifierType: Type.Optional(StringEnum(IdentifierTypes, { description: 'Same as alertIdentifierType.' })),
};

const User = Type.Optional(
  Type.String({ maxLength: 1000, description: 'Display name of the person making the request' }),
);

const IdentifierParams = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 512 }) });
const AttachmentParams = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 512 }),
  attachmentId: Type.String({ pattern: '^\\d{1,18}$', description: 'The id List Alert Attachments gives' }),
});

function identifierTypeOf(query: {
  alertIdentifierType?: IdentifierType;
  identifierType?: IdentifierType;
}): IdentifierType {
  return query.alertIdentifierType ?? query.identifierType ?? 'id';
}

/** Room for the form's boundaries, part headers and the `user` and `indexFile` fields around the file. */
const FORM_OVERHEAD = 64 * 1024;
const FORM_FIELDS = ['user', 'indexFile'] as const;

interface Upload {
  file?: { name: string; type: string; content: Buffer };
  fields: Partial<Record<(typeof FORM_FIELDS)[number], string>>;
}

/** When a download refused for the reads under way may try again: each takes milliseconds. */
const DOWNLOAD_RETRY_SECONDS = 3;

/** When an upload refused for the uploads under way may try again: each lasts as long as its file takes. */
const UPLOAD_RETRY_SECONDS = 5;

const TOO_MANY_PARTS =
  'The form has too many parts: send one file in the field "file", and user and indexFile if you like.';

/** What went wrong reading the form, as the client should hear it (never a 500: the body is the client's). */
function uploadError(error: unknown, maxBytes: number): ApiError {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new ApiError(
        413,
        `The file is larger than the limit of ${maxBytes} bytes (VIGIL_ATTACHMENT_MAX_BYTES).`,
      );
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return new ApiError(413, TOO_MANY_PARTS);
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new ApiError(415, 'Send the file as multipart/form-data.');
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return new ApiError(400, `The multipart/form-data body could not be read: ${message}.`);
    }
  }
}

/**
 * Reads the form: the file in the field `file` (at most `maxBytes`), and Opsgenie's fields beside it. One
 * file part in all (a second is FST_FILES_LIMIT, a 413), so at most one file is ever held in memory. Ends
 * as soon as `gone` aborts (the client hung up), whatever the parser is waiting for: it runs under an
 * upload permit, and a request stream closed before the parser listened would otherwise keep it for ever.
 */
async function readUpload(request: FastifyRequest, maxBytes: number, gone: AbortSignal): Promise<Upload> {
  const upload: Upload = { fields: {} };
  let stop: (() => void) | undefined;
  try {
    gone.throwIfAborted();
    const hungUp = new Promise<never>((_, reject) => {
      stop = () => {
        // Also ends the parser, if the stream was still open: its close makes it let go of what it holds.
        request.raw.destroy();
        reject(new Error('the client hung up before the form arrived'));
      };
      gone.addEventListener('abort', stop, { once: true });
    });
    const reading = readParts(request, maxBytes, upload);
    // The loser of the race is left to settle (or not) on its own, its rejection heard by no one.
    reading.catch(() => {});
    await Promise.race([reading, hungUp]);
  } catch (error) {
    // What the client still sends is read and dropped, so the connection can carry the answer.
    request.raw.resume();
    throw uploadError(error, maxBytes);
  } finally {
    if (stop) gone.removeEventListener('abort', stop);
  }
  return upload;
}

async function readParts(request: FastifyRequest, maxBytes: number, upload: Upload): Promise<void> {
  const parts = request.parts({
    limits: { fileSize: maxBytes, files: 1, fields: 10, fieldSize: 8192, parts: 11, headerPairs: 50 },
  });
  for await (const part of parts) {
    if (part.type === 'file') {
      if (part.fieldname === 'file') {
        upload.file = { name: part.filename, type: part.mimetype, content: await part.toBuffer() };
      } else {
        // Not the file: read to its end (or its limit) and dropped, never held, as the form's next part
        // follows it.
        part.file.resume();
      }
    } else if (
      (FORM_FIELDS as readonly string[]).includes(part.fieldname) &&
      typeof part.value === 'string'
    ) {
      upload.fields[part.fieldname as (typeof FORM_FIELDS)[number]] = storableText(part.value);
    }
  }
}

export function registerAttachmentRoutes(
  app: HttpApp,
  deps: { attachments: AttachmentsService; clock: Clock; maxBytes: number },
): void {
  const { attachments, clock, maxBytes } = deps;

  void app.register(async (scope: HttpApp) => {
    await scope.register(multipart, { throwFileSizeLimit: true, limits: { fileSize: maxBytes } });

    scope.post(
      '/v2/alerts/:identifier/attachments',
      {
        schema: {
          tags: ['alerts'],
          summary: 'Add an attachment: multipart/form-data with the file in the field "file"',
          description: `Opsgenie's Add Alert Attachment. The form may also carry user (who the alert's log says added it) and indexFile (kept). One file per request, at most VIGIL_ATTACHMENT_MAX_BYTES (413 beyond); an alert holds at most VIGIL_ATTACHMENTS_PER_ALERT files (422 beyond). A process receives a few uploads at once: beyond, after a short wait, a 503 with Retry-After. The file name is cut to its last path segment and 255 characters.`,
          consumes: ['multipart/form-data'],
          params: IdentifierParams,
          querystring: Type.Object({
            ...AlertIdentifierQuery,
            user: User,
            indexFile: Type.Optional(Type.String({ maxLength: 1000 })),
          }),
        },
        // Before the body is read: anything but a form is refused, and so is a form too large to hold a
        // file within the limit.
        onRequest: async (request) => {
          const type = request.headers['content-type'] ?? '';
          if (!/^multipart\/form-data\s*;/i.test(type)) {
            throw new ApiError(
              415,
              'Send the file as multipart/form-data, in the field "file" (curl -F file=@report.pdf).',
            );
          }
          const length = Number(request.headers['content-length'] ?? 0);
          if (length > maxBytes + FORM_OVERHEAD) {
            throw new ApiError(
              413,
              `The file is larger than the limit of ${maxBytes} bytes (VIGIL_ATTACHMENT_MAX_BYTES).`,
            );
          }
        },
      },
      async (request, reply) => {
        const p = principalOf(request);
        const q = request.query;
        const type = identifierTypeOf(q);
        // Listened for before anything is awaited, and a hang-up already past (while the key was checked)
        // taken as such: the socket's close comes once, and an upload that missed it would wait for a
        // body that never comes, holding its permit for ever.
        const gone = new AbortController();
        const hungUp = () => gone.abort();
        reply.raw.once('close', hungUp);
        if (reply.raw.destroyed) hungUp();
        let added;
        try {
          // Before the body is read: a caller without the right, an alert they cannot see or one already
          // full is answered at once, without a file's worth of bytes read for nothing. `add` checks again.
          await attachments.mayAdd(p, request.params.identifier, type);
          // The body is read under the permit only: an upload beyond the permits holds none of its file.
          added = await attachments.uploading(async () => {
            const upload = await readUpload(request, maxBytes, gone.signal);
            if (!upload.file) {
              throw new ApiError(422, 'Request body is not processable. Please check the errors.', {
                file: 'is required: send the file as a file part named "file".',
              });
            }
            return attachments.add(p, request.params.identifier, type, {
              fileName: upload.file.name,
              contentType: upload.file.type,
              content: upload.file.content,
              indexFile: upload.fields.indexFile ?? q.indexFile,
              user: fitActorText(upload.fields.user ?? q.user),
            });
          }, gone.signal);
        } finally {
          reply.raw.off('close', hungUp);
        }
        if (added === 'busy') {
          throw new ApiError(
            503,
            'Vigil is receiving as many attachments as it receives at once: try again shortly.',
            undefined,
            UPLOAD_RETRY_SECONDS,
          );
        }
        return reply
          .status(200)
          .send(envelope(request, { result: 'Attachment added successfully', data: { id: added.id } }));
      },
    );
  });

  app.get(
    '/v2/alerts/:identifier/attachments',
    {
      schema: {
        tags: ['alerts'],
        summary: "An alert's attachments: {data: [{name, id}]}, oldest first",
        params: IdentifierParams,
        querystring: Type.Object(AlertIdentifierQuery),
      },
    },
    async (request) => {
      const rows = await attachments.list(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
      );
      // Opsgenie's ids are numbers, and its SDKs read them as such.
      return envelope(request, { data: rows.map((r) => ({ name: r.name, id: Number(r.id) })) });
    },
  );

  app.get(
    '/v2/alerts/:identifier/attachments/:attachmentId',
    {
      schema: {
        tags: ['alerts'],
        summary:
          'An attachment: {data: {name, url}}, url a signed link that downloads it until it expires (VIGIL_ATTACHMENT_LINK_TTL_MINUTES)',
        params: AttachmentParams,
        querystring: Type.Object(AlertIdentifierQuery),
      },
    },
    async (request) => {
      const { attachment, url } = await attachments.link(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        request.params.attachmentId,
        clock.now(),
      );
      return envelope(request, { data: { name: attachment.name, url } });
    },
  );

  app.delete(
    '/v2/alerts/:identifier/attachments/:attachmentId',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Delete an attachment',
        params: AttachmentParams,
        querystring: Type.Object({ ...AlertIdentifierQuery, user: User }),
      },
    },
    async (request) => {
      await attachments.remove(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        request.params.attachmentId,
        fitActorText(request.query.user),
      );
      return envelope(request, { result: 'Attachment removed successfully' });
    },
  );

  /** A link that leads nowhere, as its client should hear it. */
  const linkError = (error: 'invalid' | 'expired' | 'gone' | 'busy') =>
    error === 'busy'
      ? new ApiError(
          503,
          'Vigil is reading as many attachments as it reads at once: try again shortly.',
          undefined,
          DOWNLOAD_RETRY_SECONDS,
        )
      : error === 'expired'
        ? new ApiError(410, 'This download link has expired: get a new one from the alert.')
        : error === 'gone'
          ? new ApiError(404, 'The attachment no longer exists.')
          : new ApiError(400, 'This download link is not valid: use the whole link as it was given.');

  /** The headers of a download, the same for GET and HEAD. */
  const downloadHeaders = (reply: FastifyReply, file: DownloadHead) =>
    reply
      .status(200)
      // Served as a download, never rendered: active content (HTML, SVG, XML…) as octet-stream, no
      // sniffing, and no scripts should anything open it in place anyway.
      .header('content-type', servedContentType(file.contentType))
      .header('content-disposition', attachmentDisposition(file.name))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      // The URL is a credential: not kept by caches, not sent on as a Referer.
      .header('cache-control', 'private, no-store')
      .header('referrer-policy', 'no-referrer')
      // Streamed: the length lets a client show progress and tell a download cut short (the file
      // deleted mid-way ends the connection early) from a whole one.
      .header('content-length', String(file.size));

  const linkRoute = {
    config: { public: true },
    schema: { hide: true, params: Type.Object({ '*': Type.String({ maxLength: 2048 }) }) },
  };

  // A wildcard rather than `:token`: the token is a JWT of some 250 characters. No HEAD made from the GET
  // (Fastify's would read the whole file to drop it): the HEAD route below reads none of it.
  app.get(`${ATTACHMENT_LINK_PATH}*`, { ...linkRoute, exposeHeadRoute: false }, async (request, reply) => {
    const download = await attachments.download(request.params['*'], clock.now());
    if ('error' in download) throw linkError(download.error);
    // Fastify destroys the stream when the response closes (the client gone mid-way or before the first
    // byte), which stops the reading.
    return downloadHeaders(reply, download).send(download.content);
  });

  app.head(`${ATTACHMENT_LINK_PATH}*`, linkRoute, async (request, reply) => {
    const file = await attachments.describeDownload(request.params['*'], clock.now());
    if ('error' in file) throw linkError(file.error);
    return downloadHeaders(reply, file).send();
  });
}

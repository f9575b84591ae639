import type { Headers, HeaderValue, StructuredHeader } from 'mailparser';
import { storableText } from '../../db/storable.js';
import { cut } from '../securityhub/findings.js';

/**
 * Why a message answers mail rather than reports a problem, or undefined: a bounce (the null envelope
 * sender, RFC 5321; or a delivery report, RFC 3464, re-sent by a forwarder), an automatic reply (RFC
 * 3834's Auto-Submitted: auto-replied, RFC 5436's auto-notified, and the headers of responders that set
 * none), or one of Vigil's own pages come back. As alerts they would page the very people whose mail
 * bounced or auto-replied, whose pages would do so again: a loop. Mail a machine sends on its own
 * (Auto-Submitted: auto-generated, as monitoring systems send) is what an Email integration is for, and
 * headers that only ask others not to reply (Precedence: bulk, X-Auto-Response-Suppress) say nothing of
 * the message itself.
 */
export function whyAutomaticReply(headers: Headers, mailFrom: string | undefined): string | undefined {
  if (mailFrom === '') return 'a bounce (its envelope sender is empty)';
  const contentType = structured(headers.get('content-type'))[0];
  const report = contentType?.params['report-type']?.toLowerCase();
  if (
    contentType?.value.toLowerCase() === 'multipart/report' &&
    (report === 'delivery-status' || report === 'disposition-notification')
  )
    return `a ${report === 'delivery-status' ? 'bounce' : 'read receipt'} (a ${report} report)`;
  const submitted = valuesOf(headers, 'auto-submitted').find(
    (v) => v.startsWith('auto-replied') || v.startsWith('auto-notified'),
  );
  if (submitted) return `an automatic reply (Auto-Submitted: ${cut(storableText(submitted), 40)})`;
  if (headers.has('x-autoreply') || headers.has('x-autorespond'))
    return 'an automatic reply (X-Autoreply or X-Autorespond)';
  if ([...valuesOf(headers, 'precedence'), ...valuesOf(headers, 'x-precedence')].includes('auto_reply'))
    return 'an automatic reply (Precedence: auto_reply)';
  if (headers.has('x-vigil-alert-id')) return "one of Vigil's own pages, come back";
  return undefined;
}

/** A header's values as mailparser gives them: a repeated header is a list, some are {value, params}. */
function structured(raw: HeaderValue | undefined): StructuredHeader[] {
  const list: unknown[] = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.flatMap((v) =>
    typeof v === 'string'
      ? [{ value: v, params: {} }]
      : v && typeof v === 'object' && 'value' in v && typeof v.value === 'string'
        ? [{ value: v.value, params: 'params' in v && v.params ? (v.params as Record<string, string>) : {} }]
        : [],
  );
}

function valuesOf(headers: Headers, name: string): string[] {
  return structured(headers.get(name)).map((v) => v.value.trim().toLowerCase());
}

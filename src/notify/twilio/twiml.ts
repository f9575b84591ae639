/**
 * TwiML, the XML Twilio reads for what a call says and does or what to answer a text with. Only the
 * verbs Vigil uses; every text is escaped, since alert messages come from outside.
 */

function escapeXml(value: string): string {
  return (
    value
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

export function twimlResponse(...verbs: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${verbs.join('')}</Response>`;
}

export function say(text: string): string {
  return `<Say>${escapeXml(text)}</Say>`;
}

export function message(text: string): string {
  return `<Message>${escapeXml(text)}</Message>`;
}

/** Waits for one key (10 s), then POSTs it as `Digits` to `action`; the verbs inside are the prompt. */
export function gatherOneDigit(action: string, ...prompt: string[]): string {
  return `<Gather input="dtmf" numDigits="1" timeout="10" method="POST" action="${escapeXml(action)}">${prompt.join('')}</Gather>`;
}

export function redirect(url: string): string {
  return `<Redirect method="POST">${escapeXml(url)}</Redirect>`;
}

export function pause(seconds: number): string {
  return `<Pause length="${Math.max(1, Math.round(seconds))}"/>`;
}

export function hangup(): string {
  return '<Hangup/>';
}

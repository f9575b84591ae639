/**
 * Kept for importers outside the intake (app.ts, test support): the SNS protocol lives in sns/.
 */
export { certificateIn, SnsCertificateStore, type SnsCertificateStoreOptions } from './sns/certificates.js';
export { looksLikeSnsMessage, parseSnsMessage, type SnsMessage, type SnsMessageType } from './sns/message.js';
export { signingCertUrlProblem, subscribeUrlProblem } from './sns/urls.js';
export { stringToSign, verifySnsMessage } from './sns/verify.js';

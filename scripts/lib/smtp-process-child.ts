/** The child of smtp-process.ts: the test SMTP server, reporting each message to its parent. */
import { startTestSmtpServer } from '../../src/testing/smtp.js';

const send = (message: unknown) => process.send?.(message);

const smtp = await startTestSmtpServer({
  headersOnly: true,
  onMessage: (mail) =>
    send({ type: 'message', receivedAt: mail.receivedAt.getTime(), headers: mail.headers }),
});
process.on('message', (m: { type: string }) => {
  if (m.type === 'clear') {
    smtp.clear();
    send({ type: 'cleared' });
  } else if (m.type === 'stop') {
    void smtp.stop().then(() => process.exit(0));
  }
});
// The parent went away without stopping it: nothing else would end this process.
process.on('disconnect', () => process.exit(0));
send({ type: 'listening', url: smtp.url, port: smtp.port });

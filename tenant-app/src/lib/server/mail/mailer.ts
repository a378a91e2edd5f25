// Outgoing mail through the SMTP server in SMTP_URL (nodemailer). One
// transport per message, closed in finally; bounded by SMTP_TIMEOUT_MS.
// nodemailer is loaded with the first mail, not at start: most starts send
// none, and its code would add to every start's time to /healthz.
import { config } from '../config';
import { log } from '../log';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export async function sendMail(mail: Mail): Promise<void> {
  const smtp = config().smtp;
  if (!smtp) throw new Error('no SMTP server is configured (SMTP_URL)');
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    url: smtp.url,
    connectionTimeout: smtp.timeoutMs,
    greetingTimeout: smtp.timeoutMs,
    socketTimeout: smtp.timeoutMs
  });
  try {
    log().info({ to: mail.to, subject: mail.subject }, 'sending mail');
    await transport.sendMail({ from: smtp.from, ...mail });
  } finally {
    transport.close();
  }
}

// Sends magic links through the configured SMTP server (nodemailer). One connection per mail:
// links are rare, and nothing stays open to close at stop.

import { createTransport, type Transporter } from 'nodemailer';
import type { SmtpConfig } from '../config.ts';

const TIMEOUT_MS = 15_000;

export interface LinkMail {
  to: string;
  service: string;
  url: string;
  minutes: number;
}

export class LinkMailer {
  readonly #transport: Transporter;
  readonly #from: string;

  constructor(smtp: SmtpConfig) {
    this.#from = smtp.from;
    this.#transport = createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.tls === 'implicit',
      requireTLS: smtp.tls === 'starttls',
      ignoreTLS: smtp.tls === 'none',
      auth: smtp.username === undefined ? undefined : { user: smtp.username, pass: smtp.password },
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
  }

  async send(mail: LinkMail): Promise<void> {
    await this.#transport.sendMail({
      from: this.#from,
      to: mail.to,
      subject: `Sign-in link for ${mail.service}`,
      // base64, so the link reaches the reader (and the tests) in one piece whatever its length.
      textEncoding: 'base64',
      text: `Sign in to ${mail.service}:\n\n${mail.url}\n\nThe link works once, for ${mail.minutes} minutes, in the browser that asked for it.\nIf you did not ask for it, ignore this mail.\n`,
    });
  }
}

// The demo stack's mail server: accepts every mail the proxy sends (magic links) and keeps none.
// Each sign-in link is printed as a plain line on stderr, which the stack shows in its terminal,
// so a newcomer can click it; the whole mail goes to the diagnostics file through stdout.

import { SMTPServer } from 'smtp-server';
import { parseArgs } from 'node:util';
import { LINK_PATH } from '../../proxy/auth/endpoints.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '9403' }, host: { type: 'string', default: '127.0.0.1' } } });

const LINK = new RegExp(`https?://\\S+${LINK_PATH.replace(/\./g, '\\.')}\\?token=[A-Za-z0-9_-]+`);

/** The text of a mail whose single part may be base64 (the proxy's are). */
function bodyText(raw: string): string {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split);
  const body = raw.slice(split + 4);
  return /^content-transfer-encoding:\s*base64/im.test(head) ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : body;
}

const server = new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'],
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const to = session.envelope.rcptTo.map((rcpt) => rcpt.address).join(', ');
      const text = bodyText(Buffer.concat(chunks).toString('utf8'));
      console.log(JSON.stringify({ level: 30, time: Date.now(), msg: 'mail received', to, text }));
      const link = LINK.exec(text)?.[0];
      if (link !== undefined) console.error(`sign-in link for ${to}: ${link}`);
      callback();
    });
  },
});

server.listen(Number(values.port), values.host, () => console.log(JSON.stringify({ level: 30, time: Date.now(), msg: `SMTP sink on ${values.host}:${values.port}` })));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// `npm run hash-secret`: reads a password or PIN (typed at a terminal without echo, twice, or piped
// on stdin) and prints its scrypt hash for the proxy's configuration file.

import { hashSecret } from './secret-hash.ts';

async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    const stdin = process.stdin;
    stdin.setRawMode(true);
    stdin.resume();
    let typed = '';
    const onData = (data: Buffer) => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(typed);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new Error('cancelled'));
          return;
        }
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

async function main(): Promise<number> {
  let secret: string;
  if (process.stdin.isTTY) {
    secret = await readHidden('Secret: ');
    if ((await readHidden('Again: ')) !== secret) {
      process.stderr.write('the two entries differ\n');
      return 1;
    }
  } else {
    secret = await readPiped();
  }
  if (secret.length === 0) {
    process.stderr.write('empty secret\n');
    return 1;
  }
  process.stdout.write(`${await hashSecret(secret)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  },
);

import { AuthError } from '../core/errors.js';

/** Reads all of stdin (for `secrets set NAME < file` or a pipe); strips one trailing newline. */
export async function readStdin(stream: NodeJS.ReadStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  const buf = Buffer.concat(chunks);
  const text = buf.toString('utf8').replace(/\r?\n$/, '');
  buf.fill(0);
  return text;
}

/** Prompts on the terminal without echoing what is typed. Throws when stdin is not a terminal. */
export async function promptHidden(question: string, stream: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (!stream.isTTY)
    throw new AuthError(
      `${question.replace(/:\s*$/, '')}: no terminal to prompt on (pipe the value on stdin or set the environment variable)`,
    );
  process.stderr.write(question);
  stream.setRawMode(true);
  stream.resume();
  stream.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error): void => {
      stream.setRawMode(false);
      stream.pause();
      stream.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          done();
          return;
        }
        if (ch === '\u0003') {
          done(new AuthError('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stream.on('data', onData);
  });
}

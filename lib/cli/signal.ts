import { PallasError } from '../errors.js';

let armed: Promise<void> | null = null;

/**
 * Installs the SIGINT and SIGTERM handlers now. A command calls it before it prints its ready line:
 * a signal sent the moment that line is read must stop the command cleanly, not kill it by
 * default (the handlers would otherwise be installed a few instructions later).
 */
export function armSignals(): Promise<void> {
  armed ??= new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  return armed;
}

/** Resolves at SIGINT or SIGTERM (armed now if not before), or when `also` resolves (the stdin lifeline). */
export async function untilSignal(also?: Promise<void>): Promise<void> {
  // Signal listeners do not keep Node's event loop alive; this timer does, until a signal comes.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await Promise.race([armSignals(), ...(also ? [also] : [])]);
  clearInterval(keepAlive);
}

/**
 * `--stdin`, for commands a bench drives on other hosts (over ssh, whose environment and files it
 * does not share): the command's config is the first line of standard input, as JSON, and standard
 * input closing afterwards means stop. ssh closes it when the connection ends, so a remote command
 * never outlives the bench that started it. `closed` resolves at that end; `release()` lets the
 * process exit without waiting for it.
 */
export async function stdinConfig(what: string): Promise<{ config: unknown; closed: Promise<void>; release(): void }> {
  const input = process.stdin;
  input.setEncoding('utf8');
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => {
    closedResolve = r;
  });
  input.once('end', () => closedResolve());
  input.once('close', () => closedResolve());
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const onData = (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        input.off('data', onData);
        // Keep reading (and discarding) so that the end of the stream is seen.
        input.on('data', () => {});
        resolve(buf.slice(0, nl));
      } else if (buf.length > 16 << 20) {
        reject(new PallasError('BAD_CONFIG', `${what}: the config line on stdin is over 16 MiB`));
      }
    };
    input.on('data', onData);
    void closed.then(() =>
      reject(new PallasError('BAD_CONFIG', `${what}: stdin closed before a config line came (--stdin wants one line of JSON)`)),
    );
  });
  let config: unknown;
  try {
    config = JSON.parse(line) as unknown;
  } catch (e) {
    throw new PallasError('BAD_CONFIG', `${what}: the config line on stdin is not JSON (${(e as Error).message})`);
  }
  return {
    config,
    closed,
    release: () => {
      input.pause();
      input.unref?.();
      input.destroy();
    },
  };
}

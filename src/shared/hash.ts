import crypto from 'node:crypto';

// crypto.hash (Node 20.12+) is the one-shot form: for thousands of small files it costs
// about half of creating a Hash object each time.
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;

/** Hex SHA-256 of a text or buffer: input files, rendered files, templates. */
export function sha256(text: string | Buffer): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

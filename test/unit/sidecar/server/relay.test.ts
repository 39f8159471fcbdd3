import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readAll } from '../../../../sidecar/src/server/relay.ts';

// readAll collects a JSON reply from the upstream: whole, cut off at the limit, or failed.

const chunks = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

describe('readAll', () => {
  it('joins the chunks of a body, including multi-byte characters split between them', async () => {
    const euro = Buffer.from('€');
    const body = Readable.from([
      Buffer.from('{"a":"'),
      euro.subarray(0, 1),
      euro.subarray(1),
      Buffer.from('"}'),
    ]);
    expect(await readAll(body, 1024)).toBe('{"a":"€"}');
  });

  it('gives up on a body over the limit and destroys it', async () => {
    const body = chunks('x'.repeat(600), 'y'.repeat(600));
    expect(await readAll(body, 1000)).toBeUndefined();
    expect(body.destroyed).toBe(true);
  });

  it('rejects when the body fails', async () => {
    const body = new Readable({ read() {} });
    const read = readAll(body, 1024);
    body.destroy(new Error('upstream reset'));
    await expect(read).rejects.toThrow('upstream reset');
  });
});

// Incremental Server-Sent Events framing. The proxy passes every event through as soon as its
// terminating blank line arrives, untouched unless a rewrite asks to change its data (list
// filtering, the legacy transport's endpoint event): one event is held at most, never the stream.

export interface SseEvent {
  /** The event exactly as received, including its terminating blank line. */
  readonly raw: string;
  readonly event: string | undefined;
  readonly id: string | undefined;
  /** Data lines joined with '\n'. */
  readonly data: string;
}

export class SseSplitter {
  #buffer = '';
  readonly #maxEventBytes: number;

  constructor(maxEventBytes = 16 * 1024 * 1024) {
    this.#maxEventBytes = maxEventBytes;
  }

  /** Feeds a chunk; returns the events it completed. Throws when one event outgrows the bound. */
  push(chunk: string): SseEvent[] {
    this.#buffer += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const end = findEventEnd(this.#buffer);
      if (end === -1) break;
      const raw = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end);
      events.push(parseEvent(raw));
    }
    if (this.#buffer.length > this.#maxEventBytes) throw new Error('SSE event too large');
    return events;
  }

  /** What is left when the stream ends (an unterminated event, passed through as is). */
  rest(): string {
    const r = this.#buffer;
    this.#buffer = '';
    return r;
  }
}

/** Index just past the first blank line (\n\n, \r\n\r\n or \r\r), or -1. */
function findEventEnd(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x0a && c !== 0x0d) continue;
    // end of a line at i; a blank line follows when the next line is empty
    let j = i + 1;
    if (c === 0x0d && s.charCodeAt(j) === 0x0a) j++;
    if (j >= s.length) return -1;
    const d = s.charCodeAt(j);
    if (d === 0x0a) return j + 1;
    if (d === 0x0d) {
      if (j + 1 >= s.length) return -1; // \r at the end: may be followed by \n
      return s.charCodeAt(j + 1) === 0x0a ? j + 2 : j + 1;
    }
  }
  return -1;
}

export function parseEvent(raw: string): SseEvent {
  let event: string | undefined;
  let id: string | undefined;
  const data: string[] = [];
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  }
  return { raw, event, id, data: data.join('\n') };
}

export function formatEvent(fields: {
  event?: string | undefined;
  id?: string | undefined;
  data: string;
}): string {
  let out = '';
  if (fields.event !== undefined) out += `event: ${fields.event}\n`;
  if (fields.id !== undefined) out += `id: ${fields.id}\n`;
  for (const line of fields.data.split('\n')) out += `data: ${line}\n`;
  return `${out}\n`;
}

// Incremental Server-Sent Events framing. The proxy passes every event on as soon as its terminating
// blank line arrives, written anew from what it parsed (never the bytes as they came, which another
// SSE parser may split differently: a lone \r, a byte order mark, an event cut off at the end), and
// rewritten where a rewrite asks (list filtering, the legacy transport's endpoint event): one event
// is held at most, never the stream.

export interface SseEvent {
  /** The event exactly as received, including its terminating blank line. */
  readonly raw: string;
  readonly event: string | undefined;
  readonly id: string | undefined;
  /** Data lines joined with '\n'. */
  readonly data: string;
  /** The reconnection time, when the event sets one (digits only, as the SSE standard requires). */
  readonly retry?: string | undefined;
}

export class SseSplitter {
  #buffer = '';
  #started = false;
  readonly #maxEventBytes: number;

  constructor(maxEventBytes = 16 * 1024 * 1024) {
    this.#maxEventBytes = maxEventBytes;
  }

  /** Feeds a chunk; returns the events it completed. Throws when one event outgrows the bound. */
  push(chunk: string): SseEvent[] {
    // A byte order mark opens the stream at most once and is no part of the first field's name.
    this.#buffer = this.#started ? this.#buffer + chunk : chunk.replace(/^\uFEFF/, '');
    this.#started ||= chunk.length > 0;
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
  let retry: string | undefined;
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
    else if (field === 'retry' && /^\d+$/.test(value)) retry = value;
  }
  return { raw, event, id, data: data.join('\n'), retry };
}

export function formatEvent(fields: {
  event?: string | undefined;
  id?: string | undefined;
  retry?: string | undefined;
  data: string;
}): string {
  let out = '';
  if (fields.event !== undefined) out += `event: ${fields.event}\n`;
  if (fields.id !== undefined) out += `id: ${fields.id}\n`;
  if (fields.retry !== undefined) out += `retry: ${fields.retry}\n`;
  for (const line of fields.data.split('\n')) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** An event as passed on: written from its parsed fields; one with none (a keep-alive) as a comment. */
export function reencodeEvent(ev: SseEvent): string {
  if (ev.data === '' && ev.event === undefined && ev.id === undefined && ev.retry === undefined) {
    return ':\n\n';
  }
  return formatEvent(ev);
}

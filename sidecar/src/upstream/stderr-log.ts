// A child's stderr as log lines, bounded: each line is cut at maxLineBytes (the rest of it is
// dropped, not held), and at most maxLines lines per window are passed on; the count of the lines
// dropped beyond that is reported once the window has passed. Hand-written because node:readline
// holds a line of any length in memory and has no rate bound.

export interface LineLogOptions {
  readonly maxLineBytes?: number;
  readonly maxLines?: number;
  readonly windowMs?: number;
  readonly now?: () => number;
}

export interface LineLog {
  write(chunk: Buffer): void;
  /** Passes on a last line without a newline. */
  end(): void;
}

export type LineSink = (line: string, truncated: boolean) => void;

export function createLineLog(sink: LineSink, opts: LineLogOptions = {}): LineLog {
  const maxLineBytes = opts.maxLineBytes ?? 8 * 1024;
  const maxLines = opts.maxLines ?? 200;
  const windowMs = opts.windowMs ?? 10_000;
  const now = opts.now ?? Date.now;
  let parts: Buffer[] = [];
  let held = 0;
  let truncated = false;
  let windowStart = now();
  let passed = 0;
  let dropped = 0;

  const reportDropped = () => {
    if (dropped > 0)
      sink(`[${dropped} stderr lines dropped: more than ${maxLines} in ${windowMs} ms]`, false);
    dropped = 0;
  };

  const emit = () => {
    const line = Buffer.concat(parts).toString('utf8').replace(/\r$/, '');
    parts = [];
    held = 0;
    const cut = truncated;
    truncated = false;
    const t = now();
    if (t - windowStart >= windowMs) {
      reportDropped();
      windowStart = t;
      passed = 0;
    }
    if (passed >= maxLines) {
      dropped++;
      return;
    }
    passed++;
    sink(line, cut);
  };

  const keep = (piece: Buffer) => {
    const room = maxLineBytes - held;
    if (piece.length > room) truncated = true;
    const kept = piece.length > room ? piece.subarray(0, room) : piece;
    if (kept.length > 0) {
      parts.push(kept);
      held += kept.length;
    }
  };

  return {
    write(chunk) {
      let start = 0;
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
        keep(chunk.subarray(start, nl));
        emit();
        start = nl + 1;
      }
      if (start < chunk.length) keep(chunk.subarray(start));
    },
    end() {
      if (held > 0 || truncated) emit();
      reportDropped();
    },
  };
}

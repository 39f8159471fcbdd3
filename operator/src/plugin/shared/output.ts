// How commands talk to a person or a script: lines on stdout and stderr, aligned tables, and the
// exit codes every command shares, so a CI job or shell script can branch on them.

export const EXIT = {
  /** Done; for can-i: allowed; for policy test: every case passed. */
  ok: 0,
  /** The answer is no: can-i denied, a policy test case failed. */
  no: 1,
  /** The question could not be answered: bad flags, unreadable files, the cluster unreachable. */
  error: 2,
} as const;

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export function streamOutput(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Output {
  return {
    out: (line) => stdout.write(`${line}\n`),
    err: (line) => stderr.write(`${line}\n`),
  };
}

/** Rows as columns padded to the widest cell, kubectl get style (the last column is not padded). */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const width = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: width }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd(),
  );
}

/** A header row and its rows, aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return columns([header, ...rows]);
}

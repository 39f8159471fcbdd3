import { parse, YAMLError } from 'yaml';

// YAML (or JSON) from a mounted Secret. The parser's messages quote the offending source lines, and
// in a Secret those lines are credentials; errors are logged and put into configuration errors, so
// a fault is named by its place only, with neither the parser's message nor its cause.

/** Parses `text` read from the Secret file `file`; throws "FILE: invalid YAML at line L, column C". */
export function parseSecretYaml(text: string, file: string): unknown {
  try {
    // logLevel 'error': warnings would be printed to the console, quoting the source too.
    return parse(text, { logLevel: 'error' });
  } catch (err) {
    const at = err instanceof YAMLError ? err.linePos?.[0] : undefined;
    throw new Error(
      at === undefined
        ? `${file}: invalid YAML`
        : `${file}: invalid YAML at line ${at.line}, column ${at.col}`,
    );
  }
}

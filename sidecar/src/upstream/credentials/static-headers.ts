import type { CredentialSource, UpstreamCredential } from './credential.ts';
import { parseHeaderValue, type SecretFile, watchSecretFile } from './secret-file.ts';

// `headers`: the server's own credential, the same for every caller, read from Secret files.

export interface StaticHeadersConfig {
  readonly id: string;
  readonly headers: readonly { readonly name: string; readonly file: string }[];
}

export function staticHeadersSource(
  config: StaticHeadersConfig,
  onError: (err: Error) => void,
): CredentialSource {
  const files: [string, SecretFile<string>][] = config.headers.map((h) => [
    h.name.toLowerCase(),
    watchSecretFile(h.file, parseHeaderValue, onError),
  ]);
  return {
    mode: 'headers',
    async credentialFor(): Promise<UpstreamCredential> {
      const headers: Record<string, string> = {};
      for (const [name, file] of files) headers[name] = file.current();
      return { id: config.id, headers };
    },
    close: () => {
      for (const [, f] of files) f.close();
    },
  };
}

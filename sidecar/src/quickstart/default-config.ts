import { hashApiKey } from '../authn/index.ts';
import { CONFIG_API_VERSION, type SidecarConfig } from '../contract/config.ts';

// The quick start's built-in configuration: one local API key, a policy that allows every tool of
// the everything server except get-env (it would print the server's environment), and every
// prompt and resource. Shows allow, deny-wins and default deny with nothing to write.

export interface QuickstartInput {
  readonly port: number;
  readonly adminPort: number;
  readonly upstream: SidecarConfig['upstream'];
  readonly apiKey: string;
}

export function quickstartConfig(input: QuickstartInput): SidecarConfig {
  return {
    apiVersion: CONFIG_API_VERSION,
    kind: 'SidecarConfig',
    server: { name: 'everything', canonicalUri: `http://127.0.0.1:${input.port}/mcp` },
    listen: { host: '127.0.0.1', port: input.port, path: '/mcp' },
    admin: { host: '127.0.0.1', port: input.adminPort },
    upstream: input.upstream,
    authentication: {
      allowAnonymous: false,
      apiKeys: [
        { id: 'dev', sha256: hashApiKey(input.apiKey), subject: 'developer', groups: ['developers'] },
      ],
    },
    authorization: {
      rules: [
        {
          policy: 'quickstart/default',
          name: 'developers-use-everything',
          action: 'allow',
          subjects: [{ group: 'developers' }],
          tools: ['*'],
          prompts: ['*'],
          resources: ['*'],
        },
        {
          policy: 'quickstart/default',
          name: 'no-environment-dump',
          action: 'deny',
          subjects: [{ anyAuthenticated: true }],
          tools: ['get-env'],
        },
      ],
    },
  };
}

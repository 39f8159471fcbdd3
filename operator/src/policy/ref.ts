import type { McpPolicy } from '../api/mcp-policy.ts';

/** Policy reference written into each rule, as the sidecar's audit events and denials show it. */
export const policyRef = (policy: McpPolicy) => `${policy.metadata.namespace}/${policy.metadata.name}`;

export * from './conditions.ts';
export { crdFiles, customResourceDefinitions } from './crds.ts';
export * from './external-source.ts';
export * from './group.ts';
export * from './hosted-source.ts';
export * from './kube-types.ts';
export * from './mcp-policy.ts';
export * from './mcp-server.ts';
export * from './operator-defaults.ts';

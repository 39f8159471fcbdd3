export {
  policiesForServer,
  selectorMatches,
  selectorProblems,
  selects,
  serversForPolicy,
} from '../policy/selection.ts';
export { RenderError, type RenderErrorCode } from './errors.ts';
export {
  CONFIG_FILE,
  hostedEndpoint,
  MCP_CONTAINER,
  RESTART_HASH_ANNOTATION,
  SIDECAR_CONTAINER,
} from './layout.ts';
export { APP_NAME, childLabels, ownerReference, selectorLabels } from './meta.ts';
export {
  type AcceptedInput,
  acceptedCondition,
  type PolicyIssue,
  validatePolicy,
} from './policy-validation.ts';
export { configText, renderConfigMap, restartHash } from './render-configmap.ts';
export { renderDeployment } from './render-deployment.ts';
export { type NetworkPolicyObject, renderNetworkPolicy } from './render-network-policy.ts';
export { renderPodDisruptionBudget } from './render-pdb.ts';
export { type RenderedChildren, type RenderInput, type RenderResult, renderServer } from './render-server.ts';
export { renderService } from './render-service.ts';
export { renderServiceAccount } from './render-service-account.ts';
export { buildSidecarConfig, configuredRules, policyRef } from './sidecar-config.ts';
export { TOOLS_ALLOW_LIST_RULE, toolsAllowListRule } from './tools-allow-list.ts';

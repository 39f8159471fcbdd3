// Condition types and reasons of the Portcullis kinds. Each reason is documented because it is what
// a person reads in `kubectl describe`; the message says what to do about it.

/** Condition types of an McpServer. */
export const ServerCondition = {
  /** The endpoint serves calls: every child object applied and the pods available. */
  Ready: 'Ready',
  /** The McpPolicies selecting the server were read and rendered into its sidecar configuration. */
  PoliciesResolved: 'PoliciesResolved',
  /** The server runs, but with less than it should (some pods unavailable, a policy kept at its last accepted version or failing closed). */
  Degraded: 'Degraded',
  /** Every definition the sidecars see matches its pin (docs/pinning.md); absent while no sidecar reported. */
  ToolsPinned: 'ToolsPinned',
  /** External servers: the gateway's last probe of the upstream (MCP initialize over the configured TLS) succeeded. */
  UpstreamReachable: 'UpstreamReachable',
} as const;
export type ServerConditionType = (typeof ServerCondition)[keyof typeof ServerCondition];

/** Reasons of McpServer conditions. */
export const ServerReason = {
  /** Ready=True: all replicas available behind the sidecar. */
  Available: 'Available',
  /** Ready=False: children applied, pods not yet available (rollout in progress). */
  Progressing: 'Progressing',
  /** Ready=False: replicas is 0. */
  ScaledToZero: 'ScaledToZero',
  /** Ready=False: the spec passed the API server but cannot be rendered (e.g. a port clash); see the message. */
  InvalidSpec: 'InvalidSpec',
  /** Ready=False: the source or transport is valid in the API but not implemented by this operator version. */
  Unsupported: 'Unsupported',
  /** Ready=False: a child's name is taken by an object this server did not create; it is left alone and nothing is applied. */
  Conflict: 'Conflict',
  /** Ready=False, Degraded=True: the API server refused a child object; the message has its answer. Retried with backoff. */
  ApplyFailed: 'ApplyFailed',
  /** PoliciesResolved=True: the selected policies are all accepted and in force. */
  Resolved: 'Resolved',
  /** PoliciesResolved=True: no McpPolicy selects the server, so every call is denied. */
  NoPolicies: 'NoPolicies',
  /** PoliciesResolved=False / Degraded=True: a selected policy is not accepted; its last accepted version stays in force, or, when it has none, every call is denied. */
  PolicyNotAccepted: 'PolicyNotAccepted',
  /**
   * Degraded=True, or Ready=False after a completed rollout: replicas are unavailable and no pod says
   * why. When a pod does, the reason is its own instead: `Unschedulable` (the scheduler's),
   * `CrashLoopBackOff`, `ImagePullBackOff`, `ErrImagePull`, `CreateContainerConfigError` (a missing
   * Secret or ConfigMap) and the kubelet's other waiting reasons, or a failed pod's (`Evicted`).
   */
  ReplicasUnavailable: 'ReplicasUnavailable',
  /** Degraded=False: nothing is wrong (or, while pods start, no fault seen yet). */
  Healthy: 'Healthy',
  /** ToolsPinned=True: every definition seen matches its pin (approved, or trusted on first use). */
  Pinned: 'Pinned',
  /** ToolsPinned=False: a definition changed since it was pinned; held (hidden, calls refused) unless the mode is Observe. Review with `kubectl portcullis tools diff`. */
  DefinitionChanged: 'DefinitionChanged',
  /** ToolsPinned=False: a definition holds invisible or bidirectional Unicode; held unless that digest is approved. */
  SuspiciousDefinition: 'SuspiciousDefinition',
  /** ToolsPinned=False: under Enforce a definition has no approved pin; hidden until approved. */
  DefinitionNotApproved: 'DefinitionNotApproved',
  /** ToolsPinned=Unknown: pinning is on, but no sidecar has reported its observations yet. */
  AwaitingReport: 'AwaitingReport',
  /** ToolsPinned=False: spec.tools.pinning.mode is Off; definitions are passed as the server sends them. */
  PinningOff: 'PinningOff',
  /** UpstreamReachable=True: a gateway pod reached the upstream; the message names it (serverInfo, protocol revision). */
  Reachable: 'Reachable',
  /** UpstreamReachable=False, Degraded=True: a gateway pod could not reach the upstream (TLS trust, name, connection, HTTP status); calls get a JSON-RPC error. */
  Unreachable: 'Unreachable',
  /** UpstreamReachable=Unknown: no gateway pod has reported a probe of the current URL yet. */
  NoReport: 'NoReport',
} as const;
export type ServerReason = (typeof ServerReason)[keyof typeof ServerReason];

/** Condition types of an McpPolicy. */
export const PolicyCondition = {
  /** The operator compiled every rule; the policy is in force on the servers it selects. */
  Accepted: 'Accepted',
} as const;
export type PolicyConditionType = (typeof PolicyCondition)[keyof typeof PolicyCondition];

/** Reasons of McpPolicy conditions. */
export const PolicyReason = {
  /** Accepted=True: every rule compiled. */
  Valid: 'Valid',
  /** Accepted=False: a rule does not compile (CEL `when`, a pattern, its shape); the message names the rule. */
  InvalidRule: 'InvalidRule',
  /** Accepted=False: spec.servers is not a valid label selector. */
  InvalidSelector: 'InvalidSelector',
} as const;
export type PolicyReason = (typeof PolicyReason)[keyof typeof PolicyReason];

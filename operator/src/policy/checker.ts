import type { McpPolicy } from '../api/mcp-policy.ts';

// Compiling a policy (CEL, patterns) is the costly part of checking it; the result depends only on
// the spec, so it is kept per uid and generation and shared by both controllers.

export interface PolicyCheck {
  accepted: boolean;
  reason: string;
  message: string;
}

type Checked = Pick<McpPolicy, 'metadata'>;

/** Key of a policy's memo entry; the recorded version of a policy has `${id}@lastAccepted`. */
export const memoId = (policy: Checked): string =>
  policy.metadata.uid ?? `${policy.metadata.namespace ?? ''}/${policy.metadata.name}`;

/** One per kind (McpPolicy, ClusterMcpPolicy). */
export class PolicyChecker<P extends Checked = McpPolicy> {
  readonly #check: (policy: P) => PolicyCheck;
  readonly #memo = new Map<string, { generation: number | undefined; result: PolicyCheck }>();

  constructor(check: (policy: P) => PolicyCheck) {
    this.#check = check;
  }

  check(policy: P): PolicyCheck {
    const id = memoId(policy);
    const hit = this.#memo.get(id);
    if (hit && hit.generation === policy.metadata.generation && policy.metadata.generation !== undefined) {
      return hit.result;
    }
    const result = this.#check(policy);
    this.#memo.set(id, { generation: policy.metadata.generation, result });
    return result;
  }

  /** Drops what is kept for a deleted policy, its recorded version's check included (accepted.ts). */
  forget(policy: P): void {
    const id = memoId(policy);
    this.#memo.delete(id);
    this.#memo.delete(`${id}@lastAccepted`);
  }
}

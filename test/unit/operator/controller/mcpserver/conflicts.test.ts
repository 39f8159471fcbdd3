import { describe, expect, it } from 'vitest';
import { conflictWith } from '../../../../../operator/src/controller/mcpserver/conflicts.ts';
import { ownerReferenceTo } from '../../../../../operator/src/reconcile/ownership.ts';
import { child, server } from '../builders.ts';

describe('conflictWith', () => {
  const s = server('app-config');
  const ours = {
    ...child('ConfigMap', 'app-config'),
    metadata: { ...child('ConfigMap', 'app-config').metadata, ownerReferences: [ownerReferenceTo(s)] },
  };

  it.each([
    { name: 'nothing there: no conflict', existing: undefined, message: undefined },
    { name: "the server's own child: no conflict", existing: ours, message: undefined },
    {
      name: "a user's object without an owner",
      existing: child('ConfigMap', 'app-config'),
      message:
        'ConfigMap app-config already exists and was not created for this McpServer (it has no controller)',
    },
    {
      name: 'a child of a deleted namesake (same name, other uid)',
      existing: child('ServiceAccount', 'app-config', { kind: 'McpServer', name: 'app-config' }),
      message:
        'ServiceAccount app-config already exists and was not created for this McpServer (it is controlled by McpServer app-config (uid u))',
    },
  ])('$name', ({ existing, message }) => {
    const found = conflictWith(s, existing);
    if (message === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(message);
  });
});

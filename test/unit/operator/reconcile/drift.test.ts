import { describe, expect, it } from 'vitest';
import type { KubeObject, ManagedFieldsEntry } from '../../../../operator/src/kube/object.ts';
import {
  foreignTemplateField,
  templateReplacement,
  trimManagedFields,
} from '../../../../operator/src/reconcile/drift.ts';

const MANAGER = 'portcullis-operator';

// Our apply entry as server-side apply records it for a two-container template.
const ours: ManagedFieldsEntry = {
  manager: MANAGER,
  operation: 'Apply',
  fieldsV1: {
    'f:spec': {
      'f:replicas': {},
      'f:template': {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:containers': {
            'k:{"name":"mcp-server"}': {
              '.': {},
              'f:image': {},
              'f:name': {},
              'f:volumeMounts': { 'k:{"mountPath":"/tmp"}': { '.': {}, 'f:mountPath': {}, 'f:name': {} } },
            },
            'k:{"name":"portcullis-sidecar"}': { '.': {}, 'f:image': {}, 'f:name': {} },
          },
          'f:volumes': { 'k:{"name":"portcullis-token"}': { '.': {}, 'f:name': {}, 'f:projected': {} } },
        },
      },
    },
  },
};

const status: ManagedFieldsEntry = {
  manager: 'kube-controller-manager',
  operation: 'Update',
  subresource: 'status',
  fieldsV1: { 'f:status': { 'f:replicas': {} } },
};

const revision: ManagedFieldsEntry = {
  manager: 'kube-controller-manager',
  operation: 'Update',
  fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:deployment.kubernetes.io/revision': {} } } },
};

const theirs = (template: Record<string, unknown>, manager = 'kubectl-edit'): ManagedFieldsEntry => ({
  manager,
  operation: 'Update',
  fieldsV1: { 'f:spec': { 'f:template': template } },
});

const deployment = (...entries: ManagedFieldsEntry[]): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'echo', namespace: 'team', resourceVersion: '9', managedFields: [ours, ...entries] },
  spec: { replicas: 1, template: { metadata: { labels: { app: 'echo' } }, spec: { containers: [] } } },
});

describe('drift by addition to the pod template', () => {
  it.each([
    {
      name: 'only our fields, status and the revision annotation',
      entries: [status, revision],
      found: undefined,
    },
    {
      name: 'a container added',
      entries: [
        theirs({
          'f:spec': { 'f:containers': { 'k:{"name":"miner"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        }),
      ],
      found: 'spec.template.spec.containers.[name=miner]',
    },
    {
      name: "the sidecar's token mounted into the MCP container",
      entries: [
        theirs({
          'f:spec': {
            'f:containers': {
              'k:{"name":"mcp-server"}': {
                'f:volumeMounts': {
                  'k:{"mountPath":"/var/run/token"}': { '.': {}, 'f:mountPath': {}, 'f:name': {} },
                },
              },
            },
          },
        }),
      ],
      found: 'spec.template.spec.containers.[name=mcp-server].volumeMounts.[mountPath=/var/run/token]',
    },
    {
      name: 'hostPID switched on',
      entries: [theirs({ 'f:spec': { 'f:hostPID': {} } })],
      found: 'spec.template.spec.hostPID',
    },
    {
      name: 'envFrom added to the MCP container',
      entries: [theirs({ 'f:spec': { 'f:containers': { 'k:{"name":"mcp-server"}': { 'f:envFrom': {} } } } })],
      found: 'spec.template.spec.containers.[name=mcp-server].envFrom',
    },
    {
      name: 'another writer co-owning a field of ours with the same value',
      entries: [
        theirs({ 'f:spec': { 'f:containers': { 'k:{"name":"mcp-server"}': { '.': {}, 'f:image': {} } } } }),
      ],
      found: undefined,
    },
    {
      name: 'a rollout restart',
      entries: [
        theirs(
          { 'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/restartedAt': {} } } },
          'kubectl-rollout',
        ),
      ],
      found: undefined,
    },
  ])('$name: $found', ({ entries, found }) => {
    expect(foreignTemplateField(deployment(...entries), MANAGER)).toBe(found);
  });

  it('the cache keeps our entry and only the template claims of other writers', () => {
    const hostPid = theirs({ 'f:spec': { 'f:hostPID': {} } });
    expect(trimManagedFields([ours, status, revision, hostPid], MANAGER)).toEqual([
      ours,
      { manager: 'kubectl-edit', operation: 'Update', fieldsV1: hostPid.fieldsV1 },
    ]);
  });

  it('the replacement carries the desired template, a restart mark, and drops claims on the template', () => {
    const restart = theirs(
      {
        'f:metadata': { 'f:annotations': { 'f:kubectl.kubernetes.io/restartedAt': {} } },
        'f:spec': { 'f:hostPID': {} },
      },
      'kubectl-rollout',
    );
    const live = {
      ...deployment(status, revision, restart),
      spec: {
        replicas: 1,
        paused: false,
        template: {
          metadata: { labels: { app: 'echo' }, annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } },
          spec: { hostPID: true, containers: [{ name: 'mcp-server' }, { name: 'miner' }] },
        },
      },
    };
    const desired = {
      ...deployment(),
      spec: {
        template: { metadata: { labels: { app: 'echo' } }, spec: { containers: [{ name: 'mcp-server' }] } },
      },
    };
    const replaced = templateReplacement(live, desired, MANAGER);
    expect(replaced.spec).toEqual({
      replicas: 1,
      paused: false,
      template: {
        metadata: { labels: { app: 'echo' }, annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } },
        spec: { containers: [{ name: 'mcp-server' }] },
      },
    });
    expect(replaced.metadata.resourceVersion).toBe('9');
    expect(replaced.metadata.managedFields).toEqual([
      ours,
      status,
      revision,
      {
        ...restart,
        fieldsV1: {
          'f:spec': {
            'f:template': {
              'f:metadata': { 'f:annotations': { 'f:kubectl.kubernetes.io/restartedAt': {} } },
            },
          },
        },
      },
    ]);
    expect(foreignTemplateField(replaced, MANAGER)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { buildEvent } from '../../../../sidecar/src/audit/build-event.ts';
import { createChain } from '../../../../sidecar/src/audit/chain.ts';
import type { AuditInput } from '../../../../sidecar/src/audit/event.ts';
import { toOcsf } from '../../../../sidecar/src/audit/ocsf.ts';
import { compilePayloadCapture } from '../../../../sidecar/src/audit/payload.ts';
import { callInput } from './builders.ts';

const ocsf = (input: AuditInput) =>
  toOcsf(
    createChain().seal(
      buildEvent(input, { id: 'e1', instance: 'i', now: new Date(0), payloads: compilePayloadCapture({}) }),
    ).event,
  );

describe('OCSF API Activity shape', () => {
  it.each([
    { name: 'an allowed call', input: callInput(), activity: 99, status: 1, action: 1 },
    {
      name: 'a denied call',
      input: callInput({ outcome: 'denied', decision: { effect: 'deny' } }),
      activity: 99,
      status: 2,
      action: 2,
    },
    {
      name: 'a list',
      input: callInput({ method: 'tools/list', target: {} }),
      activity: 2,
      status: 1,
      action: 1,
    },
  ])('maps $name', ({ input, activity, status, action }) => {
    const r = ocsf(input);
    expect(r).toMatchObject({
      class_uid: 6003,
      category_uid: 6,
      activity_id: activity,
      type_uid: 600300 + activity,
      status_id: status,
      action_id: action,
      api: { operation: input.method, service: { name: 'tools/github' } },
      actor: { user: { uid: 'alice@example.com', groups: [{ name: 'engineering' }] }, app_name: 'inspector' },
      src_endpoint: { ip: '10.0.0.7', port: 51234 },
      metadata: { uid: 'e1', sequence: 1, version: '1.3.0' },
    });
    expect(r.unmapped).toMatchObject({ portcullis: { seq: 1, instance: 'i' } });
  });

  it('carries the cut values of a bounded event in unmapped.portcullis', () => {
    const r = ocsf(callInput({ target: { tool: 'x'.repeat(5000) } }));
    expect(r.resources).toEqual([expect.objectContaining({ name: 'x'.repeat(1024) })]);
    expect(r.unmapped).toMatchObject({
      portcullis: { truncatedFields: [{ bytes: 5000, field: '/target/tool' }] },
    });
  });
});

import type { ServerReason } from '../api/conditions.ts';

// Why an McpServer that the API server accepted still cannot be rendered. Returned as a value (the
// renderers are pure); the controller turns it into Ready=False with the reason and message.

export type RenderErrorCode =
  | 'RENDER_UNSUPPORTED_SOURCE' // spec.external / spec.compose: not implemented yet
  | 'RENDER_MISSING_FIELD' // a field the transport needs (port, command): the CRD's rules refuse it first
  | 'RENDER_PORT_CONFLICT' // the MCP server port is one the sidecar uses
  | 'RENDER_MISSING_METADATA'; // no uid or namespace: not an object read from the API server

const REASONS: Record<RenderErrorCode, typeof ServerReason.InvalidSpec | typeof ServerReason.Unsupported> = {
  RENDER_UNSUPPORTED_SOURCE: 'Unsupported',
  RENDER_MISSING_FIELD: 'InvalidSpec',
  RENDER_PORT_CONFLICT: 'InvalidSpec',
  RENDER_MISSING_METADATA: 'InvalidSpec',
};

export class RenderError extends Error {
  override readonly name = 'RenderError';
  readonly code: RenderErrorCode;
  /** The Ready condition reason this error maps to. */
  readonly reason: typeof ServerReason.InvalidSpec | typeof ServerReason.Unsupported;

  constructor(code: RenderErrorCode, message: string) {
    super(message);
    this.code = code;
    this.reason = REASONS[code];
  }
}

import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../sidecar/src/config/load.ts';
import { rawConfig } from '../../../support/harness.ts';

// Secure by default: a standalone configuration without a pinning section pins on first use.

describe('the pinning section', () => {
  const base = () => {
    const { pinning: _, ...raw } = rawConfig({
      upstream: { transport: 'streamable-http', url: 'http://127.0.0.1:1/mcp' },
    });
    return raw;
  };

  it('absent: TrustOnFirstUse, pins kept in memory', () => {
    const result = validateConfig(base());
    expect(result.ok && result.config.pinning).toEqual({ mode: 'TrustOnFirstUse' });
  });

  it('present: as written, Off included', () => {
    const result = validateConfig({ ...base(), pinning: { mode: 'Off' } });
    expect(result.ok && result.config.pinning).toEqual({ mode: 'Off' });
  });
});

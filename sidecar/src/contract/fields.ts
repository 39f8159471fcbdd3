import Type from 'typebox';

// Field shapes more than one section of the configuration file uses.

export const port = (description: string) => Type.Integer({ minimum: 1, maximum: 65535, description });

export const ms = (description: string, defaultMs: number) =>
  Type.Integer({ minimum: 1, maximum: 3_600_000, default: defaultMs, description: `${description} (ms)` });

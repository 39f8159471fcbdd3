// The API group and version of every Portcullis kind, and the labels the operator puts on what it owns.

export const GROUP = 'portcullis.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** kubectl category: `kubectl get portcullis` lists every Portcullis object. */
export const CATEGORY = 'portcullis';

/** Field manager for every server-side apply the operator makes. */
export const FIELD_MANAGER = 'portcullis-operator';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  partOf: 'app.kubernetes.io/part-of',
  component: 'app.kubernetes.io/component',
} as const;

export const MANAGED_BY = 'portcullis';
export const PART_OF = 'portcullis';

import { fetch } from 'undici';
import type { Connection } from './connection.ts';
import { codeForStatus, KubeError } from './errors.ts';
import type { KubeList, KubeObject } from './object.ts';
import { collectionPath, objectPath, type ResourceType, resourceOf } from './resources.ts';

// A small JSON client over the API server's REST paths. client-node's typed APIs convert objects
// into class instances (dates become Date objects, unknown fields are dropped) and open a new
// connection pool per request; the operator wants the stored JSON as-is, to compare and hash it,
// one shared pool, and one place that counts every write.

export type WriteVerb = 'apply' | 'create' | 'update' | 'delete';

export interface KubeClientOptions {
  /** Called once per write request, so benchmarks and metrics can count API writes. */
  onWrite?: (verb: WriteVerb, resource: ResourceType) => void;
  /**
   * Called after every request with its duration and HTTP status (`<error>` when none came), for the
   * request latency histogram and the requests counter.
   */
  onResponse?: (method: string, resource: ResourceType, seconds: number, code: string) => void;
}

export interface ListOptions {
  labelSelector?: string;
  limit?: number;
  continueToken?: string;
}

export interface ApplyOptions {
  fieldManager: string;
  force: boolean;
  subresource?: 'status';
}

interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
}

export class KubeClient {
  readonly connection: Connection;
  readonly #onWrite: (verb: WriteVerb, resource: ResourceType) => void;
  readonly #onResponse: NonNullable<KubeClientOptions['onResponse']>;

  constructor(connection: Connection, options: KubeClientOptions = {}) {
    this.connection = connection;
    this.#onWrite = options.onWrite ?? (() => {});
    this.#onResponse = options.onResponse ?? (() => {});
  }

  async get<T extends KubeObject>(r: ResourceType, namespace: string | undefined, name: string) {
    try {
      return await this.#request<T>(r, 'GET', objectPath(r, namespace, name));
    } catch (err) {
      if (err instanceof KubeError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  list<T extends KubeObject>(r: ResourceType, namespace: string | undefined, options: ListOptions = {}) {
    return this.#request<KubeList<T>>(r, 'GET', collectionPath(r, namespace), {
      query: {
        labelSelector: options.labelSelector,
        limit: options.limit === undefined ? undefined : String(options.limit),
        continue: options.continueToken,
      },
    });
  }

  /** Server-side apply of a full manifest (JSON is YAML, so the apply content type takes it). */
  apply<T extends KubeObject>(manifest: KubeObject, options: ApplyOptions): Promise<T> {
    const r = this.#resourceOfManifest(manifest);
    this.#onWrite('apply', r);
    const { name, namespace } = manifest.metadata;
    return this.#request<T>(r, 'PATCH', objectPath(r, namespace, name, options.subresource), {
      query: { fieldManager: options.fieldManager, force: String(options.force) },
      body: manifest,
      contentType: 'application/apply-patch+yaml',
    });
  }

  create<T extends KubeObject>(manifest: KubeObject): Promise<T> {
    const r = this.#resourceOfManifest(manifest);
    this.#onWrite('create', r);
    return this.#request<T>(r, 'POST', collectionPath(r, manifest.metadata.namespace), { body: manifest });
  }

  /** Replace with the object's resourceVersion as precondition: CONFLICT when someone wrote first. */
  update<T extends KubeObject>(manifest: KubeObject, options: { fieldManager?: string } = {}): Promise<T> {
    const r = this.#resourceOfManifest(manifest);
    this.#onWrite('update', r);
    const { name, namespace } = manifest.metadata;
    return this.#request<T>(r, 'PUT', objectPath(r, namespace, name), {
      body: manifest,
      query: { fieldManager: options.fieldManager },
    });
  }

  async delete(r: ResourceType, namespace: string | undefined, name: string): Promise<void> {
    this.#onWrite('delete', r);
    try {
      await this.#request(r, 'DELETE', objectPath(r, namespace, name), {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
      });
    } catch (err) {
      if (!(err instanceof KubeError && err.code === 'NOT_FOUND')) throw err;
    }
  }

  #resourceOfManifest(manifest: KubeObject): ResourceType {
    const r = resourceOf(manifest.apiVersion ?? '', manifest.kind ?? '');
    if (!r) throw new KubeError('UNEXPECTED', 0, `unsupported kind ${manifest.apiVersion}/${manifest.kind}`);
    return r;
  }

  async #request<T>(r: ResourceType, method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const started = performance.now();
    let code = '<error>';
    try {
      const result = await this.#send<T>(method, path, options);
      code = String(result.status);
      return result.value;
    } catch (err) {
      if (err instanceof KubeError && err.status > 0) code = String(err.status);
      throw err;
    } finally {
      this.#onResponse(method, r, (performance.now() - started) / 1000, code);
    }
  }

  async #send<T>(
    method: string,
    path: string,
    options: RequestOptions,
  ): Promise<{ status: number; value: T }> {
    const url = new URL(this.connection.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = {
      ...(await this.connection.headers()),
      accept: 'application/json',
    };
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        dispatcher: this.connection.dispatcher,
      });
    } catch (err) {
      throw new KubeError('UNAVAILABLE', 0, `${method} ${path}: ${(err as Error).message}`, undefined, err);
    }
    const text = await response.text();
    if (response.ok) return { status: response.status, value: (text ? JSON.parse(text) : undefined) as T };
    let status: { message?: string; reason?: string } = {};
    try {
      status = JSON.parse(text) as typeof status;
    } catch {
      // not a Status object; the HTTP status is all there is
    }
    throw new KubeError(
      codeForStatus(response.status),
      response.status,
      status.message ?? `${method} ${path}: HTTP ${response.status}`,
      status.reason,
    );
  }
}

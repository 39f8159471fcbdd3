import { dirname, resolve } from 'node:path';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { API_VERSION } from '../../api/group.ts';
import { MCP_POLICY_KIND, McpPolicy } from '../../api/mcp-policy.ts';
import { MCP_SERVER_KIND, type McpServer } from '../../api/mcp-server.ts';
import { validatePolicy } from '../../policy/validation.ts';
import { readYamlDocuments, type YamlDocument } from '../shared/yaml-source.ts';
import { POLICY_TEST_KIND, PolicyTestFile, type TestServer } from './format.ts';

// Reads a policy test file and the policy files it names, and reports every fault as
// FILE:LINE:COLUMN: the test file's own schema, each McpPolicy's schema, and each rule checked by
// the operator's policy validation (the sidecar's compiler): a CEL condition that does not compile
// is reported at the line and column of the file where the fault is.

export interface LoadedSuite {
  readonly file: YamlDocument;
  readonly test: PolicyTestFile;
  readonly policies: McpPolicy[];
  readonly servers: McpServer[];
}

export type LoadResult = { ok: true; suites: LoadedSuite[] } | { ok: false; problems: string[] };

const testSchema = Compile(PolicyTestFile);
const policySchema = Compile(McpPolicy);

const at = (doc: YamlDocument, path: readonly (string | number)[]) => {
  const { line, column } = doc.positionOf(path);
  return `${doc.file}:${line}:${column}`;
};

/** Schema faults of a document, each at the position of the value at fault. */
function schemaProblems(doc: YamlDocument, schema: ReturnType<typeof Compile<TSchema>>): string[] {
  if (schema.Check(doc.value)) return [];
  return [...schema.Errors(doc.value)]
    .filter((e) => e.keyword !== 'boolean')
    .map((e) => {
      const path = e.instancePath
        .split('/')
        .slice(1)
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      return `${at(doc, path)}: ${e.instancePath || '/'}: ${e.message}`;
    });
}

function policyProblems(doc: YamlDocument, policy: McpPolicy): string[] {
  return validatePolicy(policy).map((issue) => {
    const index = policy.spec.rules.findIndex((r) => r.name === issue.rule);
    const rulePath = ['spec', 'rules', index];
    const fieldPath = issue.field.split('.').flatMap((p) => {
      const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(p);
      return m?.[2] === undefined ? [p] : [m[1] as string, Number(m[2])];
    });
    const where =
      issue.rule === undefined
        ? at(doc, ['spec', 'servers'])
        : issue.position && issue.field === 'when'
          ? (({ line, column }) => `${doc.file}:${line}:${column}`)(
              doc.positionInString([...rulePath, 'when'], issue.position),
            )
          : at(doc, [...rulePath, ...fieldPath]);
    const name = `${policy.metadata.namespace}/${policy.metadata.name}`;
    return issue.rule === undefined
      ? `${where}: policy ${name}: ${issue.field}: ${issue.message}`
      : `${where}: policy ${name}, rule ${issue.rule}: ${issue.field}: ${issue.message}`;
  });
}

function serverOf(s: TestServer): McpServer {
  return {
    apiVersion: API_VERSION,
    kind: MCP_SERVER_KIND,
    metadata: { name: s.name, namespace: s.namespace, labels: s.labels ?? {} },
    spec: s.toolsAllow ? { tools: { allow: s.toolsAllow } } : {},
  } as McpServer;
}

/** An object's namespace: as written, else `default`, where `kubectl apply` without -n puts it. */
function withNamespace<T extends { metadata?: { namespace?: string } }>(object: T): T {
  return { ...object, metadata: { ...object.metadata, namespace: object.metadata?.namespace ?? 'default' } };
}

export async function loadSuites(files: readonly string[]): Promise<LoadResult> {
  const problems: string[] = [];
  const suites: LoadedSuite[] = [];
  for (const path of files) {
    for (const doc of await readYamlDocuments(path)) {
      const kind = (doc.value as { kind?: unknown } | null)?.kind;
      if (kind !== POLICY_TEST_KIND) {
        problems.push(`${at(doc, ['kind'])}: expected kind ${POLICY_TEST_KIND}, found ${String(kind)}`);
        continue;
      }
      const found = schemaProblems(doc, testSchema);
      problems.push(...found);
      if (found.length > 0) continue;
      const test = doc.value as PolicyTestFile;
      const policies: McpPolicy[] = [];
      const servers = (test.servers ?? []).map(serverOf);
      for (const name of test.policies) {
        for (const source of await readYamlDocuments(resolve(dirname(path), name))) {
          const object = source.value as { apiVersion?: unknown; kind?: unknown } | null;
          if (object?.apiVersion !== API_VERSION) continue; // other objects of a GitOps folder
          if (object.kind === MCP_SERVER_KIND) servers.push(withNamespace(object as McpServer));
          if (object.kind !== MCP_POLICY_KIND) continue;
          const invalid = schemaProblems(source, policySchema);
          problems.push(...invalid);
          if (invalid.length > 0) continue;
          const policy = withNamespace(object as McpPolicy);
          const faults = policyProblems(source, policy);
          problems.push(...faults);
          if (faults.length === 0) policies.push(policy);
        }
      }
      suites.push({ file: doc, test, policies, servers });
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, suites };
}

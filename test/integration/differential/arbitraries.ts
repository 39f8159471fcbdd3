import fc from 'fast-check';

// fast-check arbitraries for the property test: an MCP request (tool, resource or prompt) over the
// demo set, written by our own JSON writer so that keys can repeat, change case or fold (ſ, K),
// strings can be escaped or UTF-7 encoded, odd whitespace can sit between tokens, URIs can take an
// alias, and the body can be sent in another charset or inside a batch. A value built this way has
// no single meaning: that is the point.

export type Json =
  | { kind: 'object'; entries: [string, Json][] }
  | { kind: 'array'; items: Json[] }
  | { kind: 'string'; value: string; spelling: StringSpelling }
  | { kind: 'literal'; text: string };

export type StringSpelling = 'none' | 'unicode-first' | 'unicode-all' | 'utf-7';

const str = (value: string, spelling: StringSpelling = 'none'): Json => ({ kind: 'string', value, spelling });
const lit = (text: string): Json => ({ kind: 'literal', text });
const obj = (entries: [string, Json][]): Json => ({ kind: 'object', entries });

const hex = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
/** UTF-7 (RFC 2152) of the whole text: '+', base64 of UTF-16BE without padding, '-'. */
const utf7 = (text: string) =>
  `+${Buffer.from(text, 'utf16le').swap16().toString('base64').replace(/=+$/, '')}-`;

function writeString(value: string, spelling: StringSpelling): string {
  const plain = JSON.stringify(value);
  switch (spelling) {
    case 'none':
      return plain;
    case 'unicode-first':
      return value.length === 0 ? plain : `"${hex(value.charAt(0))}${plain.slice(2)}`;
    case 'unicode-all':
      return `"${[...value].map((c) => (c.length === 1 ? hex(c) : c)).join('')}"`;
    case 'utf-7':
      return `"${utf7(value)}"`;
  }
}

/** Pure: the JSON text of `j`, with `ws` between every two tokens. */
export function writeJson(j: Json, ws = ''): string {
  switch (j.kind) {
    case 'literal':
      return j.text;
    case 'string':
      return writeString(j.value, j.spelling);
    case 'array':
      return `[${ws}${j.items.map((i) => writeJson(i, ws)).join(`${ws},${ws}`)}${ws}]`;
    case 'object':
      return `{${ws}${j.entries
        .map(([k, v]) => `${JSON.stringify(k)}${ws}:${ws}${writeJson(v, ws)}`)
        .join(`${ws},${ws}`)}${ws}}`;
  }
}

// --- the requests --------------------------------------------------------------------------------

/** Mostly plain, so that most requests are still understood and one oddity at a time is tried. */
const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: usual }, { weight: 1, arbitrary: odd });

const spellingArb = mostly(
  fc.constant<StringSpelling>('none'),
  fc.constantFrom<StringSpelling>('unicode-first', 'unicode-all', 'utf-7'),
);

const PUBLIC = 'demo://res/public/x';
const SECRET = 'demo://res/secret/y';
/** Spellings of the public or secret resource; the ones starting with the public prefix are the dangerous ones. */
const uriArb = fc.constantFrom(
  PUBLIC,
  SECRET,
  'DEMO://res/public/x',
  'demo://RES/public/x',
  'demo://res/public/./x',
  'demo://res/public/../secret/y',
  'demo://res/public/x/../../secret/y',
  'demo://res/public/%2e%2e/secret/y',
  'demo://res/public/%2E%2E%2Fsecret/y',
  'demo://res/public/.%2e/secret/y',
  'demo://res/public/%78',
  'demo://res/%73ecret/y',
  'demo://res/public/\t../secret/y',
  'demo://res/public/x#../../secret/y',
  'demo://res/public/x?/../../secret/y',
);

const toolArb: fc.Arbitrary<Json> = fc.oneof(
  fc
    .record({ m: fc.constantFrom('hi', 'forbidden', 'not forbidden'), e: spellingArb, ne: spellingArb })
    .map(({ m, e, ne }) =>
      obj([
        ['name', str('echo', ne)],
        ['arguments', obj([['message', str(m, e)]])],
      ]),
    ),
  fc
    .record({
      k: fc.option(fc.constantFrom('HOME', 'SECRET'), { nil: undefined }),
      e: spellingArb,
      ne: spellingArb,
    })
    .map(({ k, e, ne }) =>
      obj([
        ['name', str('get-env', ne)],
        ['arguments', obj(k === undefined ? [] : [['key', str(k, e)]])],
      ]),
    ),
  fc
    .record({ a: fc.constantFrom('1', '500', '1e2', '-1e400', '100.00000000000001', '"7"'), ne: spellingArb })
    .map(({ a, ne }) =>
      obj([
        ['name', str('add', ne)],
        [
          'arguments',
          obj([
            ['a', lit(a)],
            ['b', lit('1')],
          ]),
        ],
      ]),
    ),
);

const resourceArb: fc.Arbitrary<Json> = fc
  .record({ uri: uriArb, e: spellingArb })
  .map(({ uri, e }) => obj([['uri', str(uri, e)]]));

const promptArb: fc.Arbitrary<Json> = fc
  .record({ name: fc.constantFrom('greet', 'internal'), e: spellingArb })
  .map(({ name, e }) =>
    obj([
      ['name', str(name, e)],
      ['arguments', obj([['who', str('x')]])],
    ]),
  );

const requestArb: fc.Arbitrary<Json> = fc
  .oneof(
    toolArb.map((p) => ['tools/call', p] as const),
    resourceArb.map((p) => ['resources/read', p] as const),
    promptArb.map((p) => ['prompts/get', p] as const),
  )
  .map(([method, params]) =>
    obj([
      ['jsonrpc', str('2.0')],
      ['id', lit('7')],
      ['method', str(method)],
      ['params', params],
    ]),
  );

// --- the mutations -------------------------------------------------------------------------------

/** What a key could be made to say instead (the denied twin of each allowed value). */
const SHADOW: Record<string, Json> = {
  name: str('get-env'),
  uri: str(SECRET),
  message: str('forbidden'),
  key: str('SECRET'),
  a: lit('500'),
  method: str('tools/call'),
  who: str('y'),
};

const FOLDS: ((k: string) => string)[] = [
  (k) => k.toUpperCase(),
  (k) => k.charAt(0).toUpperCase() + k.slice(1),
  (k) => k.replace(/s/g, '\u017f'), // LATIN SMALL LETTER LONG S folds to s
  (k) => k.replace(/k/g, '\u212a'), // KELVIN SIGN folds to k
  (k) => k.replace(/K/gi, '\u212a'),
];

export type Mutation =
  | { op: 'rename'; at: number; fold: number }
  | { op: 'shadow'; at: number; fold: number; before: boolean }
  | { op: 'duplicate'; at: number; before: boolean };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('rename' as const), at: fc.nat(), fold: fc.nat(FOLDS.length - 1) }),
  fc.record({
    op: fc.constant('shadow' as const),
    at: fc.nat(),
    fold: fc.nat(FOLDS.length - 1),
    before: fc.boolean(),
  }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), before: fc.boolean() }),
);

/** Every object's entries, depth first, so a mutation can pick one by index. */
function entryLists(j: Json, out: [string, Json][][] = []): [string, Json][][] {
  if (j.kind === 'object') {
    out.push(j.entries);
    for (const [, v] of j.entries) entryLists(v, out);
  } else if (j.kind === 'array') for (const i of j.items) entryLists(i, out);
  return out;
}

/** Applies a mutation in place to the `at`-th key (modulo the key count) of the message. */
export function mutate(j: Json, m: Mutation): void {
  const slots = entryLists(j).flatMap((list) => list.map((_, i) => [list, i] as const));
  if (slots.length === 0) return;
  const [list, i] = slots[m.at % slots.length] as (typeof slots)[number];
  const [key, value] = list[i] as [string, Json];
  const shadow = SHADOW[key] ?? value;
  switch (m.op) {
    case 'rename':
      list[i] = [(FOLDS[m.fold] as (k: string) => string)(key), value];
      return;
    case 'shadow':
      list.splice(m.before ? i : i + 1, 0, [(FOLDS[m.fold] as (k: string) => string)(key), shadow]);
      return;
    case 'duplicate':
      list.splice(m.before ? i : i + 1, 0, [key, shadow]);
      return;
  }
}

// --- the wire ------------------------------------------------------------------------------------

export type Charset = 'none' | 'utf-8' | 'utf-8-bom' | 'utf-16' | 'utf-16be' | 'utf-7' | 'latin1';

export interface Generated {
  body: Json;
  mutations: Mutation[];
  ws: string;
  charset: Charset;
  batchWith?: Json;
}

export interface WireRequest {
  body: Uint8Array;
  headers: Record<string, string>;
}

/** Pure: the bytes and content type that a generated request is sent as. */
export function toWire(g: Generated): WireRequest {
  const message = structuredClone(g.body);
  for (const m of g.mutations) mutate(message, m);
  const one = writeJson(message, g.ws);
  const text = g.batchWith ? `[${one},${writeJson(g.batchWith, g.ws)}]` : one;
  const ct = (charset: string) => ({ 'content-type': `application/json; charset=${charset}` });
  switch (g.charset) {
    case 'none':
      return { body: Buffer.from(text), headers: {} };
    case 'utf-8':
      return { body: Buffer.from(text), headers: ct('utf-8') };
    case 'utf-8-bom':
      return { body: Buffer.from(`\ufeff${text}`), headers: {} };
    case 'utf-16':
      return { body: Buffer.from(`\ufeff${text}`, 'utf16le'), headers: ct('utf-16') };
    case 'utf-16be':
      return { body: Buffer.from(text, 'utf16le').swap16(), headers: ct('utf-16be') };
    case 'utf-7':
      return { body: Buffer.from(text), headers: ct('utf-7') };
    case 'latin1':
      return { body: Buffer.from(text, 'latin1'), headers: ct('iso-8859-1') };
  }
}

export const generatedArb: fc.Arbitrary<Generated> = fc.record(
  {
    body: requestArb,
    mutations: fc.array(mutationArb, { maxLength: 2 }),
    ws: mostly(fc.constantFrom('', ' ', '\t', '\r\n'), fc.constantFrom('\f', '\u00a0', '\u2028', '\ufeff')),
    charset: mostly(
      fc.constantFrom<Charset>('none', 'utf-8'),
      fc.constantFrom<Charset>('utf-8-bom', 'utf-16', 'utf-16be', 'utf-7', 'latin1'),
    ),
    batchWith: fc.option(requestArb, { nil: undefined, freq: 4 }),
  },
  { requiredKeys: ['body', 'mutations', 'ws', 'charset'] },
);

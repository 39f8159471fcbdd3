// The differential corpus: raw HTTP exchanges that different JSON, charset and URI parsers may read
// differently. Each entry runs in a fresh session against the policy of `POLICY_RULES` (see
// run-corpus.ts); whatever the sidecar decides, the upstream must never execute something the
// audit does not show as allowed. Bodies are written as text on purpose: duplicate keys, odd
// whitespace and escapes cannot be built with JSON.stringify.

/** One HTTP exchange; a function builds it from the replies of the steps before it. */
export interface Step {
  method?: 'POST' | 'GET';
  /** UTF-8 text, or exact bytes for charset variants. */
  body?: string | Uint8Array;
  /** Added to (or overriding) the JSON and SSE content negotiation headers, key and session. */
  headers?: Record<string, string>;
}

export interface Reply {
  status: number;
  text: string;
}

export interface CorpusEntry {
  group: string;
  name: string;
  /** The protocol revision of the entry's session (batches exist only in 2025-03-26). */
  protocol?: string;
  steps: (Step | ((previous: Reply[]) => Step))[];
}

/** A JSON-RPC request as the usual serialisation (for the variants that need none). */
export function rpc(method: string, params: unknown, id: unknown = 7): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params });
}

export const callTool = (name: string, args: Record<string, unknown> = {}, id: unknown = 7) =>
  rpc('tools/call', { name, arguments: args }, id);
export const readResource = (uri: string, id: unknown = 7) => rpc('resources/read', { uri }, id);
export const getPrompt = (name: string, args: Record<string, string>, id: unknown = 7) =>
  rpc('prompts/get', { name, arguments: args }, id);

/** The last revision with JSON-RPC batches: the batch entries run in sessions that negotiated it. */
export const BATCH_PROTOCOL = '2025-03-26';

const HEAD = '"jsonrpc":"2.0","id":7';
/** A tools/call whose params are written verbatim. */
const rawCall = (params: string) => `{${HEAD},"method":"tools/call","params":${params}}`;
const rawRead = (params: string) => `{${HEAD},"method":"resources/read","params":${params}}`;

function utf16le(text: string, bom = true): Uint8Array {
  return Buffer.from(`${bom ? '\ufeff' : ''}${text}`, 'utf16le');
}
function utf16be(text: string): Uint8Array {
  const le = Buffer.from(`\ufeff${text}`, 'utf16le');
  return le.swap16();
}
const json = (charset: string) => ({ 'content-type': `application/json; charset=${charset}` });

/** The first SSE event id in a reply, for resumption. */
function lastEventId(replies: Reply[]): string {
  for (const r of replies) {
    const m = /^id: ?(.+)$/m.exec(r.text);
    if (m?.[1]) return m[1].trim();
  }
  return 'no-event-id';
}

const entries: [group: string, name: string, steps: CorpusEntry['steps']][] = [
  // What the policy means, with nothing odd: the yardsticks every other entry is read against.
  ['baseline', 'allowed echo', [{ body: callTool('echo', { message: 'hi' }) }]],
  ['baseline', 'denied get-env', [{ body: callTool('get-env', { key: 'SECRET' }) }]],
  ['baseline', 'get-env allowed for key HOME', [{ body: callTool('get-env', { key: 'HOME' }) }]],
  ['baseline', 'denied echo of a forbidden message', [{ body: callTool('echo', { message: 'forbidden' }) }]],
  ['baseline', 'allowed add', [{ body: callTool('add', { a: 1, b: 2 }) }]],
  ['baseline', 'denied add over 100', [{ body: callTool('add', { a: 500, b: 2 }) }]],
  ['baseline', 'allowed public resource', [{ body: readResource('demo://res/public/x') }]],
  ['baseline', 'denied secret resource', [{ body: readResource('demo://res/secret/y') }]],
  ['baseline', 'allowed prompt', [{ body: getPrompt('greet', { who: 'bob' }) }]],
  ['baseline', 'denied prompt', [{ body: getPrompt('internal', { who: 'bob' }) }]],

  // Charsets: the sidecar must read the bytes as the upstream will, or refuse them.
  [
    'charset',
    'utf-7 +AGc-et-env',
    [{ body: rawCall('{"name":"+AGc-et-env","arguments":{}}'), headers: json('utf-7') }],
  ],
  [
    'charset',
    'utf-7 message +AGY-orbidden',
    [{ body: rawCall('{"name":"echo","arguments":{"message":"+AGY-orbidden"}}'), headers: json('utf-7') }],
  ],
  ['charset', 'utf-16le with BOM', [{ body: utf16le(callTool('get-env')), headers: json('utf-16') }]],
  [
    'charset',
    'utf-16le without BOM',
    [{ body: utf16le(callTool('get-env'), false), headers: json('utf-16le') }],
  ],
  ['charset', 'utf-16be', [{ body: utf16be(callTool('get-env')), headers: json('utf-16be') }]],
  [
    'charset',
    'latin1 message',
    [{ body: Buffer.from(callTool('echo', { message: 'café' }), 'latin1'), headers: json('iso-8859-1') }],
  ],
  ['charset', 'utf-8 BOM', [{ body: `\ufeff${callTool('get-env')}` }]],
  ['charset', 'utf-8 BOM, allowed call', [{ body: `\ufeff${callTool('echo', { message: 'bom' })}` }]],
  ['charset', 'quoted "utf-7"', [{ body: rawCall('{"name":"+AGc-et-env"}'), headers: json('"utf-7"') }]],
  [
    'charset',
    'charset UTF-8 in capitals',
    [{ body: callTool('echo', { message: 'caps' }), headers: json('UTF-8') }],
  ],

  // Key case: JSON keys are case-sensitive, but some decoders match struct fields case-insensitively.
  ['key-case', 'Method', [{ body: `{${HEAD},"Method":"tools/call","params":{"name":"get-env"}}` }]],
  ['key-case', 'METHOD beside method ping', [{ body: `{${HEAD},"method":"ping","METHOD":"tools/call"}` }]],
  ['key-case', 'Name only', [{ body: rawCall('{"Name":"get-env","arguments":{}}') }]],
  [
    'key-case',
    'name then NAME',
    [{ body: rawCall('{"name":"echo","NAME":"get-env","arguments":{"message":"x"}}') }],
  ],
  [
    'key-case',
    'nAme then name',
    [{ body: rawCall('{"nAme":"get-env","name":"echo","arguments":{"message":"x"}}') }],
  ],
  [
    'key-case',
    'Params beside params',
    [
      {
        body: `{${HEAD},"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}},"Params":{"name":"get-env"}}`,
      },
    ],
  ],
  [
    'key-case',
    'Arguments beside arguments',
    [{ body: rawCall('{"name":"echo","arguments":{"message":"ok"},"Arguments":{"message":"forbidden"}}') }],
  ],
  [
    'key-case',
    'MESSAGE after message',
    [{ body: rawCall('{"name":"echo","arguments":{"message":"ok","MESSAGE":"forbidden"}}') }],
  ],
  [
    'key-case',
    'long s (U+017F) meſſage',
    [{ body: rawCall('{"name":"echo","arguments":{"message":"ok","meſſage":"forbidden"}}') }],
  ],
  [
    'key-case',
    'long s (U+017F) argumentſ',
    [{ body: rawCall('{"name":"echo","arguments":{"message":"ok"},"argumentſ":{"message":"forbidden"}}') }],
  ],
  [
    'key-case',
    'Kelvin sign (U+212A) \u212Aey',
    [{ body: rawCall('{"name":"get-env","arguments":{"key":"HOME","\u212Aey":"SECRET"}}') }],
  ],
  [
    'key-case',
    'KEY after key',
    [{ body: rawCall('{"name":"get-env","arguments":{"key":"HOME","KEY":"SECRET"}}') }],
  ],
  [
    'key-case',
    'URI beside uri',
    [{ body: rawRead('{"uri":"demo://res/public/x","URI":"demo://res/secret/y"}') }],
  ],
  ['key-case', 'Uri only', [{ body: rawRead('{"Uri":"demo://res/secret/y"}') }]],
  [
    'key-case',
    'prompt NAME',
    [
      {
        body: `{${HEAD},"method":"prompts/get","params":{"name":"greet","NAME":"internal","arguments":{"who":"x"}}}`,
      },
    ],
  ],

  // Duplicate keys: every parser here keeps the last, but a sidecar that reads the first would not.
  [
    'duplicate',
    'name echo then get-env',
    [{ body: rawCall('{"name":"echo","name":"get-env","arguments":{"message":"x"}}') }],
  ],
  [
    'duplicate',
    'name get-env then echo',
    [{ body: rawCall('{"name":"get-env","name":"echo","arguments":{"message":"x"}}') }],
  ],
  [
    'duplicate',
    'argument key HOME then SECRET',
    [{ body: rawCall('{"name":"get-env","arguments":{"key":"HOME","key":"SECRET"}}') }],
  ],
  [
    'duplicate',
    'arguments objects',
    [{ body: rawCall('{"name":"echo","arguments":{"message":"ok"},"arguments":{"message":"forbidden"}}') }],
  ],
  [
    'duplicate',
    'method ping then tools/call',
    [{ body: `{${HEAD},"method":"ping","method":"tools/call","params":{"name":"get-env"}}` }],
  ],
  [
    'duplicate',
    'params objects',
    [
      {
        body: `{${HEAD},"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}},"params":{"name":"get-env"}}`,
      },
    ],
  ],
  [
    'duplicate',
    'uri public then secret',
    [{ body: rawRead('{"uri":"demo://res/public/x","uri":"demo://res/secret/y"}') }],
  ],

  // URI aliases of the secret resource that still match the public glob, and harmless ones.
  ['uri', 'DEMO:// scheme in capitals', [{ body: readResource('DEMO://res/public/x') }]],
  ['uri', 'host in capitals', [{ body: readResource('demo://RES/public/x') }]],
  ['uri', '/./', [{ body: readResource('demo://res/public/./x') }]],
  ['uri', '/../ into secret', [{ body: readResource('demo://res/public/../secret/y') }]],
  ['uri', '/x/../../ into secret', [{ body: readResource('demo://res/public/x/../../secret/y') }]],
  ['uri', '%2e%2e into secret', [{ body: readResource('demo://res/public/%2e%2e/secret/y') }]],
  ['uri', '%2E%2E%2F into secret', [{ body: readResource('demo://res/public/%2E%2E%2Fsecret/y') }]],
  ['uri', 'percent-encoded public', [{ body: readResource('demo://res/public/%78') }]],
  ['uri', 'percent-encoded secret', [{ body: readResource('demo://res/%73ecret/y') }]],
  ['uri', 'tab inside dot segment', [{ body: readResource('demo://res/public/.\t./secret/y') }]],
  ['uri', 'newline before ..', [{ body: readResource('demo://res/public/\n../secret/y') }]],
  ['uri', 'backslashes', [{ body: readResource('demo://res/public\\..\\secret/y') }]],
  ['uri', 'fragment', [{ body: readResource('demo://res/public/x#frag') }]],
  ['uri', 'userinfo', [{ body: readResource('demo://u@res/public/x') }]],
  [
    'uri',
    'escaped \\u002e\\u002e',
    [{ body: rawRead('{"uri":"demo://res/public/\\u002e\\u002e/secret/y"}') }],
  ],

  // Batches: each element is decided on its own.
  [
    'batch',
    'allowed then denied tool',
    [{ body: `[${callTool('echo', { message: 'b' }, 1)},${callTool('get-env', {}, 2)}]` }],
  ],
  [
    'batch',
    'denied then allowed tool',
    [{ body: `[${callTool('get-env', {}, 1)},${callTool('echo', { message: 'b' }, 2)}]` }],
  ],
  [
    'batch',
    'public and secret resource',
    [{ body: `[${readResource('demo://res/public/x', 1)},${readResource('demo://res/secret/y', 2)}]` }],
  ],
  [
    'batch',
    'same id, allowed and denied',
    [{ body: `[${callTool('echo', { message: 'b' }, 1)},${callTool('get-env', {}, 1)}]` }],
  ],
  ['batch', 'nested batch', [{ body: `[[${callTool('get-env', {}, 1)}]]` }]],
  [
    'batch',
    'all allowed',
    [{ body: `[${callTool('echo', { message: 'b' }, 1)},${readResource('demo://res/public/x', 2)}]` }],
  ],
  [
    'batch',
    'allowed elements hiding denied values',
    [
      {
        body: `[${rawCall('{"name":"echo","arguments":{"message":"ok","meſſage":"forbidden"}}').replace('"id":7', '"id":1')},${rawCall('{"name":"get-env","arguments":{"key":"HOME","key":"SECRET"}}').replace('"id":7', '"id":2')},${readResource('demo://res/public/../secret/y', 3)}]`,
      },
    ],
  ],
  [
    'batch',
    'denied notification-shaped call',
    [
      {
        body: `[{"jsonrpc":"2.0","method":"tools/call","params":{"name":"get-env"}},${callTool('echo', { message: 'b' }, 2)}]`,
      },
    ],
  ],

  // Escapes: decoded by every parser, so the sidecar must decide on the decoded text.
  ['escape', '\\u0067et-env', [{ body: rawCall('{"name":"\\u0067et-env","arguments":{}}') }]],
  ['escape', 'get\\u002denv', [{ body: rawCall('{"name":"get\\u002denv","arguments":{}}') }]],
  [
    'escape',
    'escaped key n\\u0061me',
    [{ body: rawCall('{"name":"echo","n\\u0061me":"get-env","arguments":{"message":"x"}}') }],
  ],
  [
    'escape',
    '\\u0066orbidden message',
    [{ body: rawCall('{"name":"echo","arguments":{"message":"\\u0066orbidden"}}') }],
  ],
  ['escape', 'secret path \\u0073ecret', [{ body: rawRead('{"uri":"demo://res/\\u0073ecret/y"}') }]],
  ['escape', 'NUL after the name', [{ body: rawCall('{"name":"get-env\\u0000","arguments":{}}') }]],
  ['escape', 'lone surrogate', [{ body: rawCall('{"name":"echo","arguments":{"message":"\\ud800"}}') }]],
  ['escape', '__proto__ params', [{ body: rawCall('{"__proto__":{"name":"get-env"},"arguments":{}}') }]],

  // Streams: SSE replies, the standalone GET stream and resumption (nothing may execute on a GET).
  [
    'stream',
    'SSE-only accept, denied',
    [{ body: callTool('get-env'), headers: { accept: 'text/event-stream' } }],
  ],
  [
    'stream',
    'SSE-only accept, allowed',
    [{ body: callTool('echo', { message: 's' }), headers: { accept: 'text/event-stream' } }],
  ],
  ['stream', 'GET stream', [{ method: 'GET', headers: { accept: 'text/event-stream' } }]],
  [
    'stream',
    'GET with Last-Event-ID of an allowed call',
    [
      {
        body: callTool('echo', { message: 'r' }),
        headers: { accept: 'application/json, text/event-stream' },
      },
      (previous) => ({
        method: 'GET',
        headers: { accept: 'text/event-stream', 'last-event-id': lastEventId(previous) },
      }),
    ],
  ],
  [
    'stream',
    'GET with a JSON content type',
    [
      {
        method: 'GET',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      },
    ],
  ],

  // Whitespace: JSON allows only space, tab, CR and LF between tokens.
  [
    'whitespace',
    'every legal whitespace',
    [
      {
        body: `\r\n\t {\t"jsonrpc" :\r"2.0" ,\n"id":7,"method":"tools/call","params":{"name" : "echo" , "arguments":{"message":"ws"}}}\n`,
      },
    ],
  ],
  ['whitespace', 'form feed', [{ body: `{${HEAD},\f"method":"tools/call","params":{"name":"get-env"}}` }]],
  ['whitespace', 'vertical tab', [{ body: `{${HEAD},\v"method":"tools/call","params":{"name":"get-env"}}` }]],
  [
    'whitespace',
    'no-break space',
    [{ body: `{${HEAD},\u00a0"method":"tools/call","params":{"name":"get-env"}}` }],
  ],
  [
    'whitespace',
    'line separator U+2028',
    [{ body: `{${HEAD},\u2028"method":"tools/call","params":{"name":"get-env"}}` }],
  ],
  [
    'whitespace',
    'zero-width no-break space inside',
    [{ body: `{${HEAD},\ufeff"method":"tools/call","params":{"name":"get-env"}}` }],
  ],
  [
    'whitespace',
    'second message after the first',
    [{ body: `${callTool('echo', { message: 'x' })}${callTool('get-env', {}, 8)}` }],
  ],
  [
    'whitespace',
    'second message after a newline',
    [{ body: `${callTool('echo', { message: 'x' })}\n${callTool('get-env', {}, 8)}` }],
  ],
  ['whitespace', 'trailing comma', [{ body: rawCall('{"name":"get-env","arguments":{},}') }]],
  ['whitespace', 'comment', [{ body: `{${HEAD},/*x*/"method":"tools/call","params":{"name":"get-env"}}` }]],

  // Ids: every JSON value and beyond what a double holds.
  [
    'id',
    '2^53 + 1',
    [{ body: `{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/call","params":{"name":"get-env"}}` }],
  ],
  [
    'id',
    '1e400',
    [{ body: `{"jsonrpc":"2.0","id":1e400,"method":"tools/call","params":{"name":"get-env"}}` }],
  ],
  ['id', '-0', [{ body: callTool('echo', { message: 'x' }).replace('"id":7', '"id":-0') }]],
  ['id', 'fraction', [{ body: callTool('echo', { message: 'x' }, 1.5) }]],
  ['id', 'object', [{ body: callTool('get-env', {}, { a: 1 }) }]],
  ['id', 'array', [{ body: callTool('get-env', {}, [1]) }]],
  ['id', 'null', [{ body: callTool('get-env', {}, null) }]],
  ['id', 'true', [{ body: callTool('get-env', {}, true) }]],
  ['id', 'empty string', [{ body: callTool('echo', { message: 'x' }, '') }]],
  ['id', '10,000 characters', [{ body: callTool('echo', { message: 'x' }, 'i'.repeat(10_000)) }]],
  [
    'id',
    'absent (a notification)',
    [{ body: JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'get-env' } }) }],
  ],
  ['id', 'jsonrpc 1.0', [{ body: callTool('get-env').replace('"2.0"', '"1.0"') }]],

  // Arguments the CEL condition reads, in forms parsers may convert.
  ['number', 'a = 1e400', [{ body: rawCall('{"name":"add","arguments":{"a":1e400,"b":1}}') }]],
  ['number', 'a = -1e400', [{ body: rawCall('{"name":"add","arguments":{"a":-1e400,"b":1}}') }]],
  ['number', 'a = "500" (a string)', [{ body: callTool('add', { a: '500', b: 1 }) }]],
  [
    'number',
    'a = 100.00000000000001',
    [{ body: rawCall('{"name":"add","arguments":{"a":100.00000000000001,"b":1}}') }],
  ],
  ['number', 'a = 5e2', [{ body: rawCall('{"name":"add","arguments":{"a":5e2,"b":1}}') }]],

  // Headers that name what the body calls (MCP 2026-07-28 routes on them).
  [
    'header',
    'Mcp-Method and Mcp-Name naming get-env, body echo',
    [
      {
        body: callTool('echo', { message: 'h' }),
        headers: { 'mcp-method': 'tools/call', 'mcp-name': 'get-env' },
      },
    ],
  ],
  [
    'header',
    'Mcp-Name naming echo, body get-env',
    [{ body: callTool('get-env'), headers: { 'mcp-method': 'tools/call', 'mcp-name': 'echo' } }],
  ],
  [
    'header',
    'Mcp-Param-Key naming SECRET, body HOME',
    [{ body: callTool('get-env', { key: 'HOME' }), headers: { 'mcp-param-key': 'SECRET' } }],
  ],
];

export const CORPUS: readonly CorpusEntry[] = entries.map(([group, name, steps]) =>
  group === 'batch' ? { group, name, steps, protocol: BATCH_PROTOCOL } : { group, name, steps },
);

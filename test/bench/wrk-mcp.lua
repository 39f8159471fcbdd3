-- wrk script of `npm run bench:sidecar`: MCP tools/call in one session, a fresh JSON-RPC id per call.
-- A reply that is not HTTP 200 with a JSON-RPC result counts as bad; errors are socket errors and timeouts. Arguments after `--`: request
-- headers as "name: value" (the session, the credential). done() prints one line: WRK {json}.

bad = 0
local id = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/json"
  wrk.headers["accept"] = "application/json, text/event-stream"
  for _, h in ipairs(args) do
    local name, value = h:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end

function request()
  id = id + 1
  return wrk.format(nil, nil, nil,
    '{"jsonrpc":"2.0","id":' .. id .. ',"method":"tools/call","params":{"name":"alpha","arguments":{"n":1}}}')
end

function response(status, headers, body)
  if status ~= 200 or not body:find('"result"', 1, true) then bad = bad + 1 end
end

function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"durationUs":%d,"errors":%d,"bad":%d,"p50Us":%d,"p99Us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, b,
    latency:percentile(50), latency:percentile(99)))
end

-- Prepended by the harness to every scenario script.
-- Gives each wrk thread an id (tid, 0-based), parses "key=value" script
-- arguments into `opts`, counts responses by status class per thread, and
-- prints one line "BENCH_JSON {...}" at the end for bench/wrk.py to parse.

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

opts = {}
counter = 0
n2xx, n3xx, n4xx, n5xx, nother = 0, 0, 0, 0, 0
seen = ""

function parse_args(args)
  for _, a in ipairs(args) do
    local k, v = string.match(a, "^([%w_]+)=(.*)$")
    if k then opts[k] = v end
  end
end

function read_lines(path)
  local out = {}
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    if #line > 0 then table.insert(out, line) end
  end
  f:close()
  return out
end

function bearer_headers(json)
  local h = {}
  if opts.token and #opts.token > 0 then h["Authorization"] = "Bearer " .. opts.token end
  if json then h["Content-Type"] = "application/json" end
  return h
end

function response(status, headers, body)
  if status >= 200 and status < 300 then n2xx = n2xx + 1
  elseif status < 400 then n3xx = n3xx + 1
  elseif status < 500 then
    n4xx = n4xx + 1
    -- keep the first few distinct unexpected statuses and a body sample
    if #seen < 600 then seen = seen .. status .. ":" .. string.sub(body or "", 1, 120) .. "\n" end
  elseif status < 600 then
    n5xx = n5xx + 1
    if #seen < 600 then seen = seen .. status .. ":" .. string.sub(body or "", 1, 120) .. "\n" end
  else nother = nother + 1 end
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local c = {n2xx = 0, n3xx = 0, n4xx = 0, n5xx = 0, nother = 0}
  local samples = ""
  for _, t in ipairs(threads) do
    for k, _ in pairs(c) do c[k] = c[k] + (t:get(k) or 0) end
    samples = samples .. (t:get("seen") or "")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d},' ..
    '"status":{"2xx":%d,"3xx":%d,"4xx":%d,"5xx":%d,"other":%d},"samples":%s}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9),
    c.n2xx, c.n3xx, c.n4xx, c.n5xx, c.nother, json_string(string.sub(samples, 1, 2000))))
end

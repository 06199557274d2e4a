-- PUT a session's marks: opts.path, JSON bodies from opts.bodies (one per line),
-- taken round-robin per request so consecutive requests change the marks.
-- Or opts.requests: lines "PATH BODY" (several sessions), taken round-robin the same way.
function init(args)
  parse_args(args)
  headers = bearer_headers(true)
  if opts.requests then
    reqs = {}
    for _, line in ipairs(read_lines(opts.requests)) do
      local path, body = string.match(line, "^(%S+) (.*)$")
      table.insert(reqs, {path, body})
    end
  else
    bodies = read_lines(opts.bodies)
  end
end

function request()
  if reqs then
    local r = reqs[(counter + tid) % #reqs + 1]
    counter = counter + 1
    return wrk.format("PUT", r[1], headers, r[2])
  end
  local body = bodies[(counter + tid) % #bodies + 1]
  counter = counter + 1
  return wrk.format("PUT", opts.path, headers, body)
end

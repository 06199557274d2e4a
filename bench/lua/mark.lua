-- PUT a session's marks: opts.path, JSON bodies from opts.bodies (one per line),
-- taken round-robin per request so consecutive requests change the marks.
function init(args)
  parse_args(args)
  bodies = read_lines(opts.bodies)
  headers = bearer_headers(true)
end

function request()
  local body = bodies[(counter + tid) % #bodies + 1]
  counter = counter + 1
  return wrk.format("PUT", opts.path, headers, body)
end

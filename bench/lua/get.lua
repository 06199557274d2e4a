-- GET opts.path (with a bearer token when opts.token is given).
function init(args)
  parse_args(args)
  req = wrk.format("GET", opts.path, bearer_headers(false))
end

function request()
  counter = counter + 1
  return req
end

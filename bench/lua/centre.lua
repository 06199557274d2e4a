-- POST a centre with a unique code (catalog scenario: validates the harness).
function init(args)
  parse_args(args)
  headers = bearer_headers(true)
end

function request()
  counter = counter + 1
  local code = string.format("bench-%s-%d-%d", opts.prefix or "x", tid, counter)
  local body = string.format('{"code":"%s","name":"Bench centre %d","city":"Lahore","province":"punjab"}',
    code, counter)
  return wrk.format("POST", "/api/v1/centres", headers, body)
end

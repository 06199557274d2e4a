-- POST a valid applicant to opts.path; every body has a unique CNIC.
-- CNIC = 2-digit run prefix (10..99) .. 2-digit thread id .. 9-digit counter.
-- opts.district: the district as sent (default "Lahore", the canonical name).
function init(args)
  parse_args(args)
  prefix = tonumber(opts.prefix or "10")
  district = opts.district or "Lahore"
  headers = bearer_headers(true)
end

function request()
  counter = counter + 1
  local cnic = string.format("%02d%02d%09d", prefix, tid, counter)
  local phone = string.format("+92300%07d", (tid * 1000003 + counter) % 10000000)
  local body = string.format(
    '{"cnic":"%s","full_name":"Bench Applicant %d","date_of_birth":"2000-01-15",' ..
    '"gender":"female","email":"a%s@bench-mail.pk","phone":"%s","province":"punjab",' ..
    '"district":"%s","education_level":"bachelor","consent":true}',
    cnic, counter, cnic, phone, district)
  return wrk.format("POST", opts.path, headers, body)
end

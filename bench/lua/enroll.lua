-- POST {"applicant_id"} to /api/v1/cohorts/{id}/enrollments.
-- Applicant ids (opts.applicants, one per line) are dealt to threads without
-- overlap: thread t takes ids t, t+T, t+2T, ... (T = opts.threads); cohorts
-- (opts.cohorts, one id per line) are taken round-robin per request.
function init(args)
  parse_args(args)
  applicants = read_lines(opts.applicants)
  cohorts = read_lines(opts.cohorts)
  nthreads = tonumber(opts.threads or "1")
  headers = bearer_headers(true)
end

function request()
  local i = (counter * nthreads + tid) % #applicants + 1
  local cohort = cohorts[(counter + tid) % #cohorts + 1]
  counter = counter + 1
  local body = '{"applicant_id":"' .. applicants[i] .. '"}'
  return wrk.format("POST", "/api/v1/cohorts/" .. cohort .. "/enrollments", headers, body)
end

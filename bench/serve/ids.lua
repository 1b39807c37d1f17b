-- wrk script of the serve benchmark: GET /agg/ID with an ID distinct per
-- request (thread number * 1e9 + a counter), plus the query given after
-- "--" (e.g. "slow=1"); at the end, one machine-readable line:
--   RESULT requests duration_us rps p50_us p99_us errors non2xx
local threads = {}
local n = 0

function setup(thread)
  n = n + 1
  thread:set("tid", n)
  table.insert(threads, thread)
end

local counter = 0
local suffix = ""

function init(args)
  if args[1] and args[1] ~= "" then
    suffix = "?" .. args[1]
  end
end

function request()
  counter = counter + 1
  return wrk.format("GET", "/agg/" .. (tid * 1000000000 + counter) .. suffix)
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format("RESULT %d %d %.1f %d %d %d %d\n",
    summary.requests, summary.duration,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    errors, e.status))
end

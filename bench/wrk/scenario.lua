-- The benchmark's wrk script: one scenario per wrk run, named by the first
-- argument after `--`:
--
--   wrk -t T -c C -d D -s scenario.lua URL -- MODE SECONDS THREADS TOKENS OFFSET EPOCH TARGET
--
--   MODE     health | post | page | report | chart | get
--   SECONDS  how long each thread sends (post: wrk's -d is longer, see below)
--   THREADS  wrk's -t, so keys can be split between threads
--   TOKENS   file of bearer tokens, line i for tenant i ("-" for none)
--   OFFSET   post: first key number, so runs never reuse a natural key
--   EPOCH    post: newest refresh date (Unix seconds), keys go back from it;
--            page: the newest seeded refresh date
--   TARGET   get: the path and query every request asks for, with the first token
--            (an operator's token for the tenants routes)
--
-- It prints one line, "BENCH key=value ...", that bench/harness reads.
--
-- post: every request stores a new row (a unique natural key, tenants taken in
-- turn). A thread stops sending after SECONDS and waits for its answers, so no
-- POST is abandoned in flight (an abandoned POST may still be committed, and the
-- row count would not match the 201s counted).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local timespec = ffi.new("bench_timespec")
local CLOCK_MONOTONIC = 1

-- Seconds on a clock all threads share, to the microsecond.
local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local COLLECTION = "/v1.0/reports/teamsDeviceUsageDistributionUserCounts"
local REPORT = "/v1.0/reports/getTeamsDeviceUsageDistributionUserCounts(period='D7')"
local CHART = "/v1.0/dashboard/chart.svg"
local PERIODS = { "7", "30", "90", "180" }
local DAY = 86400

-- Setup and done run in wrk's main Lua state.
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

local function bearer(tenant)
  return { ["Authorization"] = "Bearer " .. tokens[tenant + 1] }
end

local function new_row_request()
  local n = key_offset + sequence * thread_count + thread_index
  sequence = sequence + 1
  local tenant = n % #tokens
  local rest = math.floor(n / #tokens)
  local period = PERIODS[rest % 4 + 1]
  local date = os.date("!%Y-%m-%d", epoch - math.floor(rest / 4) * DAY)
  local body = string.format(
    '{"@odata.type":"#microsoft.graph.teamsDeviceUsageDistributionUserCounts",' ..
    '"reportRefreshDate":"%s","web":%d,"windowsPhone":%d,"androidPhone":%d,"ios":%d,' ..
    '"mac":%d,"windows":%d,"chromeOS":%d,"linux":%d,"reportPeriod":"%s"}',
    date, n % 997, n % 13, n % 251, n % 241, n % 61, n % 1009, n % 7, n % 5, period)
  local headers = bearer(tenant)
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", COLLECTION, headers, body)
end

-- One tenant's page: 150 days of 7-day rows somewhere in the seeded history,
-- so a full page of 100 rows (and a nextLink) comes back.
local function filtered_page_request()
  local tenant = math.random(0, #tokens - 1)
  local newest = epoch - math.random(0, 90) * DAY
  local filter = string.format(
    "reportRefreshDate ge %s and reportRefreshDate le %s and reportPeriod eq '7'",
    os.date("!%Y-%m-%d", newest - 149 * DAY), os.date("!%Y-%m-%d", newest))
  filter = filter:gsub(" ", "%%20"):gsub("'", "%%27")
  return wrk.format("GET", COLLECTION .. "?$filter=" .. filter .. "&$top=100", bearer(tenant))
end

local function report_request()
  return wrk.format("GET", REPORT, bearer(math.random(0, #tokens - 1)))
end

-- The dashboard's chart of one tenant's whole seeded history for one period.
local function chart_request()
  local period = PERIODS[math.random(1, 4)]
  return wrk.format("GET", CHART .. "?period=" .. period, bearer(math.random(0, #tokens - 1)))
end

-- One fixed request (a page of the large tenant's history, a tenants route).
local function get_request()
  return wrk.format("GET", target, bearer(0))
end

local builders = {
  post = new_row_request, page = filtered_page_request, report = report_request, chart = chart_request,
  get = get_request,
}

function init(args)
  mode = args[1]
  seconds = tonumber(args[2])
  thread_count = tonumber(args[3])
  tokens = {}
  if args[4] and args[4] ~= "-" then
    for line in io.lines(args[4]) do
      tokens[#tokens + 1] = line
    end
  end
  key_offset = tonumber(args[5] or "0")
  epoch = tonumber(args[6] or "0")
  target = args[7]
  sequence, sent, answered, started, last_answer = 0, 0, 0, nil, nil
  statuses = {}
  math.randomseed(os.time() + thread_index * 7919)

  local build = builders[mode]
  if build then
    local calls = 0
    function request()
      calls = calls + 1
      -- wrk calls thread 0's request() once before the run, to check its syntax.
      if thread_index == 0 and calls == 1 then
        return build()
      end
      if not started then
        started = now()
      end
      sent = sent + 1
      return build()
    end
  elseif mode ~= "health" then
    error("unknown mode " .. tostring(mode))
  end

  if mode == "post" then
    function delay()
      if started and now() - started >= seconds then
        return 3600 * 1000 -- never within this run: the connection goes quiet
      end
      return 0
    end
  end
end

function response(status, headers, body)
  local t = now()
  if mode == "health" and not started then
    started = t
  end
  if mode == "health" then
    sent = sent + 1
  end
  answered = answered + 1
  last_answer = t
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local sent, answered, first, last = 0, 0, nil, nil
  local statuses = {}
  for _, thread in ipairs(threads) do
    sent = sent + thread:get("sent")
    answered = answered + thread:get("answered")
    local s, l = thread:get("started"), thread:get("last_answer")
    if s and (not first or s < first) then first = s end
    if l and (not last or l > last) then last = l end
    for status, n in pairs(thread:get("statuses")) do
      statuses[status] = (statuses[status] or 0) + n
    end
  end
  local e = summary.errors
  local line = string.format(
    "BENCH sent=%d answered=%d seconds=%.6f p50_us=%d p90_us=%d p99_us=%d socket_errors=%d",
    sent, answered, (first and last) and (last - first) or 0,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout)
  for status, n in pairs(statuses) do
    line = line .. string.format(" status_%d=%d", status, n)
  end
  print(line)
end

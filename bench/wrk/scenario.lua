-- One wrk script for every FAROS scenario:  wrk ... -s scenario.lua URL -- DATA.lua SCENARIO
--
-- DATA.lua is written by bench/seed.py (tokens, task ids). Every request picks a random user
-- of the scenario's group and, where it needs one, a random task that user may see.
-- response() tallies status codes per thread; done() prints one line
--   BENCH_JSON {...}
-- with requests, duration, latency percentiles (microseconds), status counts and socket errors,
-- which bench/run.py parses.

local data, scenario
local users                 -- the group this scenario draws from
counts = {}                 -- status code -> count (global: done() reads it per thread)

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local PRIORITIES = {"low", "medium", "high"}
local TAGS = {"work", "home", "urgent", "later", "finance", "ops", "dev", "admin"}
local JSON = {["Content-Type"] = "application/json"}

local function pick(list)
  return list[math.random(#list)]
end

local function auth(user, extra)
  local headers = {["Authorization"] = "Bearer " .. user.token}
  if extra then
    for k, v in pairs(extra) do headers[k] = v end
  end
  return headers
end

local serial = 0
local function unique()
  serial = serial + 1
  return tostring(thread_id) .. "-" .. tostring(serial)
end

local today = os.time()
local function some_date()
  return os.date("!%Y-%m-%d", today + math.random(-30, 60) * 86400)
end

local make = {}

make.ceiling_json = function()
  return wrk.format("GET", "/json")
end

make.ceiling_db = function()
  return wrk.format("GET", "/db")
end

make.health = function()
  return wrk.format("GET", "/health")
end

make.first_page = function()
  return wrk.format("GET", "/tasks?limit=20", auth(pick(users)))
end

make.filtered = function()
  local path = "/tasks?limit=20&completed=false&priority=" .. pick(PRIORITIES)
    .. "&search=" .. pick(data.words)
  return wrk.format("GET", path, auth(pick(users)))
end

make.by_id = function()
  local user = pick(users)
  return wrk.format("GET", "/tasks/" .. pick(user.visible), auth(user))
end

make.comments = function()
  local user = pick(users)
  return wrk.format("GET", "/tasks/" .. pick(user.commented) .. "/comments", auth(user))
end

make.stats = function()
  return wrk.format("GET", "/tasks/stats", auth(pick(users)))
end

make.patch = function()
  local user = pick(users)
  local body = string.format(
    '{"title":"Edited %s","priority":"%s","completed":%s}',
    unique(), pick(PRIORITIES), math.random() < 0.5 and "true" or "false")
  return wrk.format("PATCH", "/tasks/" .. pick(user.own), auth(user, JSON), body)
end

make.post = function()
  local body = string.format(
    '{"title":"Bench task %s","description":"Created by the benchmark","priority":"%s",'
      .. '"tags":["%s","%s"],"due_date":"%s"}',
    unique(), pick(PRIORITIES), pick(TAGS), pick(TAGS), some_date())
  return wrk.format("POST", "/tasks", auth(pick(users), JSON), body)
end

make.login = function()
  local body = string.format('{"username":"%s","password":"%s"}', pick(users).user, data.password)
  return wrk.format("POST", "/auth/login", JSON, body)
end

-- 80% reads, 20% writes, on the same users (writes invalidate their cached stats).
local MIX = {
  {20, make.first_page}, {10, make.filtered}, {25, make.by_id}, {15, make.comments},
  {10, make.stats}, {12, make.patch}, {8, make.post},
}
make.mixed = function()
  local roll = math.random(100)
  for _, entry in ipairs(MIX) do
    roll = roll - entry[1]
    if roll <= 0 then return entry[2]() end
  end
  return make.by_id()
end

make.big_first_page = make.first_page
make.big_by_id = make.by_id

local GROUP = {
  patch = "writers", post = "writers", login = "writers",
  big_first_page = "big", big_by_id = "big",
}

function init(args)
  data = dofile(args[1])
  scenario = args[2]
  if not make[scenario] then
    error("unknown scenario " .. tostring(scenario))
  end
  users = data[GROUP[scenario] or "readers"]
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  request = make[scenario]
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local statuses = {}
  for _, thread in ipairs(threads) do
    local tally = thread:get("counts")
    for status, n in pairs(tally) do
      statuses[status] = (statuses[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(statuses) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"mean_us":%.1f,"statuses":{%s},"socket_errors":{"connect":%d,'
      .. '"read":%d,"write":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, table.concat(parts, ","),
    e.connect, e.read, e.write, e.timeout))
end

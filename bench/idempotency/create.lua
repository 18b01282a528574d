-- POST /tasks as one user: wrk ... -s create.lua URL -- TOKEN MODE
-- MODE: none (no Idempotency-Key), fresh (a new key per request), replay (one key: replays)
local token, mode
local counter = 0
local prefix = ""

function init(args)
  token, mode = args[1], args[2]
  prefix = tostring(math.random(1, 1e9)) .. "-" .. tostring(os.time()) .. "-"
end

function request()
  counter = counter + 1
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
  if mode == "fresh" then
    headers["Idempotency-Key"] = '"' .. prefix .. counter .. '"'
  elseif mode == "replay" then
    headers["Idempotency-Key"] = '"the-one-key"'
  end
  return wrk.format("POST", "/tasks", headers, '{"title":"bench","priority":"high","tags":["a","b"]}')
end

function done(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end

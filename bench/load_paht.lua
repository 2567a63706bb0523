-- wrk script for PAHT's side of the peer benchmark (driven by bench/load_paht.py).
-- env: PAHT_OP (a_list|b_detail|c_dashboard|d_create), PAHT_OPFILE (.graphql document),
--      PAHT_DATA (a lua file returning { tenants = { {token=, reports={gid,...}, fields={gid,...}}, ... } }).
-- Each request: a random tenant, its operator's JWT, random variables valid in that tenant.
local op = os.getenv("PAHT_OP")
local data = dofile(os.getenv("PAHT_DATA"))
local tenants = data.tenants

local function load_document(path)
  local f = assert(io.open(path, "r"))
  local text = f:read("*a")
  f:close()
  text = text:gsub("#[^\n]*", ""):gsub("%s+", " ")
  return (text:gsub("\\", "\\\\"):gsub('"', '\\"'))
end
local document = load_document(os.getenv("PAHT_OPFILE"))

local STATES = { "SUBMITTED", "ASSIGNED", "IN_PROGRESS", "RESOLVED", "CLOSED", "REJECTED" }
local TITLES = { "Ổ gà trên đường", "Đèn đường hỏng", "Rác thải bừa bãi", "Cây đổ chắn đường" }
local STREETS = { "Cầu Mây", "Xuân Viên", "Thạch Sơn", "Fansipan" }

local all_threads = {}
function setup(thread)
  all_threads[#all_threads + 1] = thread
end

function init(args)
  gql_errors, bad_status, first_error = 0, 0, nil
  math.randomseed(os.time() * 1000 + (tonumber(tostring({}):sub(8), 16) or 0) % 1000)
end

local function pick(list) return list[math.random(#list)] end

local function variables(t)
  if op == "a_list" then
    return string.format('{"states":["%s"]}', pick(STATES))
  elseif op == "b_detail" then
    return string.format('{"id":"%s"}', pick(t.reports))
  elseif op == "c_dashboard" then
    return "{}"
  elseif op == "d_create" then
    local street = pick(STREETS)
    return string.format('{"input":{"title":"%s tại đường %s","description":"Nhập qua đường dây nóng (benchmark).",'
      .. '"fieldId":"%s","latitude":%.6f,"longitude":%.6f,"address":"%d %s","onBehalf":true}}',
      pick(TITLES), street, pick(t.fields), 22.3 + math.random() * 0.1, 103.8 + math.random() * 0.1,
      math.random(1, 200), street)
  end
  error("unknown PAHT_OP " .. tostring(op))
end

function request()
  local t = pick(tenants)
  local body = '{"query":"' .. document .. '","variables":' .. variables(t) .. '}'
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    -- the dashboard needs stats:view: the tenant's centre_supervisor (seed_paht.py)
    ["Authorization"] = "Bearer " .. ((op == "c_dashboard" and t.stoken) or t.token),
  }, body)
end

function response(status, headers, body)
  local failed = false
  if status ~= 200 then
    bad_status = bad_status + 1
    failed = true
  elseif body:find('"errors":%s*%[%s*{') or body:find('"data":%s*null') or body:find('"report":%s*null') then
    gql_errors = gql_errors + 1
    failed = true
  end
  if failed and not first_error then first_error = body:sub(1, 400) end
end

function done(summary, latency, requests)
  local g, b, sample = 0, 0, nil
  for _, th in ipairs(all_threads) do
    g = g + (th:get("gql_errors") or 0)
    b = b + (th:get("bad_status") or 0)
    sample = sample or th:get("first_error")
  end
  local s = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format('WRK_RESULT {"requests":%d,"seconds":%.3f,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,'
    .. '"p99_ms":%.3f,"max_ms":%.3f,"gql_errors":%d,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    g, b, s.connect + s.read + s.write + s.timeout))
  if sample then io.write("WRK_SAMPLE_ERROR " .. sample:gsub("\n", " ") .. "\n") end
end

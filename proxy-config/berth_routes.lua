-- Berth's route table inside nginx: host -> entry, in the lua_shared_dict
-- "berth_routes" that every worker shares. The orchestrator sets entries
-- through the control server (a unix socket only root can reach; see
-- nginx.conf), and writes the same entries to the table file that load()
-- reads when nginx starts, so a restarted nginx serves every route at once.
-- A route change is one dict write: no nginx -t, no reload, and keep-alive
-- connections stay open (a reload closes idle ones).
--
-- One entry is one line of space-separated fields; the orchestrator writes
-- the same format (orchestrator/src/proxy/route-entry.ts):
--   <host> <slug> up <port> <max body bytes> [<rate per minute> <burst> <connections>]
--   <host> <slug> down <state>
--   <host> <slug> sleeping <ipv4>:<port>   (the orchestrator's wake listener, asked from the access phase: M.wake)
-- Everything is checked here too: the control socket is root-only, but a bad
-- entry must never reach a request, nor change anything else.
local M = {}

local MAX_LINE = 512
local HEADER = 'berth-routes 1'

local DOWN = {
  provisioning = { note = 'It is being set up and will answer in a moment.', retry = 10 },
  upgrading = { note = 'It is being upgraded and will be back shortly.', retry = 10 },
  restoring = { note = 'Its data is being restored from a backup; it will be back shortly.', retry = 10 },
  degraded = { note = 'It is not answering its health checks right now; it is being looked after.', retry = 30 },
  stopped = { note = 'It has been stopped. It will answer again once an operator starts it.', retry = 300 },
  hibernated = { note = 'It is asleep. It will answer again once it is woken up.', retry = 60 },
  failed = { note = 'It could not be started. An operator needs to look at it.', retry = 300 },
  deleting = { note = 'It is being deleted.', retry = 300 },
}

local function port_ok(text)
  if not text or #text > 5 or not text:find('^[1-9][0-9]*$') then return false end
  return tonumber(text) <= 65535
end

local function host_ok(host)
  return #host <= 253 and host:find('^[a-z0-9][a-z0-9.-]*[a-z0-9]$') ~= nil and not host:find('..', 1, true)
end

local function slug_ok(slug)
  return #slug >= 3 and #slug <= 32 and slug:find('^[a-z][a-z0-9-]*[a-z0-9]$') ~= nil and not slug:find('--', 1, true)
end

-- Returns host, value (what the dict holds) or nil, "<field>: <problem>".
function M.parse(line)
  if type(line) ~= 'string' or #line == 0 then return nil, 'entry: empty' end
  if #line > MAX_LINE then return nil, 'entry: longer than ' .. MAX_LINE .. ' bytes' end
  if line:find('[^%w .:-]') then return nil, 'entry: only a-z, 0-9, ".", ":", "-" and single spaces are allowed' end
  local f = {}
  for part in line:gmatch('[^ ]+') do f[#f + 1] = part end
  local host, slug, kind = f[1], f[2], f[3]
  if not host or not host_ok(host) then return nil, 'host: not a valid host name' end
  if not slug or not slug_ok(slug) then return nil, 'slug: not a valid tenant slug' end
  if kind == 'up' then
    -- 5 fields: no edge limits (a route set without a plan, or written before plans had them).
    if #f ~= 8 and #f ~= 5 then return nil, 'up: expected <port> <max body bytes> <rate per minute> <burst> <connections>' end
    if not port_ok(f[4]) then return nil, 'port: must be an integer from 1 to 65535' end
    if #f[5] > 12 or not f[5]:find('^[1-9][0-9]*$') then return nil, 'maxBodyBytes: must be a positive integer' end
    if #f == 8 then
      local problem = M.limits_problem(f[6], f[7], f[8])
      if problem then return nil, problem end
    end
  elseif kind == 'down' then
    if #f ~= 4 then return nil, 'down: expected <state>' end
    if not DOWN[f[4]] then return nil, 'state: unknown down state' end
  elseif kind == 'sleeping' then
    if #f ~= 4 then return nil, 'sleeping: expected <ipv4>:<port>' end
    local a, b, c, d, p = f[4]:match('^(%d+)%.(%d+)%.(%d+)%.(%d+):(%d+)$')
    if not a or tonumber(a) > 255 or tonumber(b) > 255 or tonumber(c) > 255 or tonumber(d) > 255 or not port_ok(p) then
      return nil, 'wake: must be <ipv4>:<port>'
    end
  else
    return nil, 'kind: must be up, down or sleeping'
  end
  return host, table.concat(f, ' ', 2)
end

-- Parses a whole table (file or bulk replace): header, entries, then
-- "end <count> <crc32 of the entry lines>", so a truncated or altered file is
-- refused as a whole rather than half loaded. Returns a host -> value map.
function M.parse_table(text)
  if text:sub(1, #HEADER + 1) ~= HEADER .. '\n' then return nil, 'line 1: expected "' .. HEADER .. '"' end
  -- A plain find per line: linear however long a line is (a pattern such as
  -- ([^\n]*)\n rescans a newline-free tail from every position).
  local lines, pos = {}, 1
  while true do
    local nl = text:find('\n', pos, true)
    if not nl then break end
    lines[#lines + 1] = text:sub(pos, nl - 1)
    pos = nl + 1
  end
  if pos <= #text then return nil, 'the last line does not end with a newline (truncated?)' end
  if lines[1] ~= HEADER then return nil, 'line 1: expected "' .. HEADER .. '"' end
  local trailer = lines[#lines] or ''
  local count, crc = trailer:match('^end (%d+) (%d+)$')
  if not count then return nil, 'last line: expected "end <count> <crc32>" (truncated?)' end
  if tonumber(count) ~= #lines - 2 then return nil, 'trailer: says ' .. count .. ' entries, found ' .. (#lines - 2) end
  local body = text:sub(#HEADER + 2, #text - #trailer - 1)
  if tostring(ngx.crc32_long(body)) ~= crc then return nil, 'trailer: checksum does not match the entries' end
  local map = {}
  for i = 2, #lines - 1 do
    local host, value = M.parse(lines[i])
    if not host then return nil, 'line ' .. i .. ': ' .. value end
    map[host] = value
  end
  return map
end

-- Makes the dict hold exactly `map`: new values first, then stale hosts go,
-- so no host that stays is ever missing in between.
local function replace(dict, map)
  for host, value in pairs(map) do
    local ok, err = dict:safe_set(host, value)
    if not ok then return nil, 'shared memory: ' .. tostring(err) end
  end
  for _, host in ipairs(dict:get_keys(0)) do
    if map[host] == nil then dict:delete(host) end
  end
  return true
end

local function read_file(path)
  local f, err = io.open(path, 'rb')
  if not f then return nil, err end
  local text = f:read('*a')
  f:close()
  return text
end

-- init_by_lua, in the master (as root) at start and at every reload. A table
-- that fails parse_table is refused with an error naming the file and line,
-- and the last good one (the previous table, kept by the orchestrator) is
-- loaded instead; nginx still starts, so Berth's own pages and the control
-- socket come up and the orchestrator can replay its routes.
function M.load(path)
  local dict = ngx.shared.berth_routes
  for _, file in ipairs({ path, path .. '.last-good' }) do
    local text, err = read_file(file)
    if not text then
      if err and err:find('No such file', 1, true) then
        ngx.log(ngx.NOTICE, 'berth: no route table at ', file)
      else
        ngx.log(ngx.ERR, 'berth: cannot read route table ', file, ': ', err)
      end
    else
      local map, problem = M.parse_table(text)
      if map then
        local ok, rerr = replace(dict, map)
        if ok then
          ngx.log(file == path and ngx.NOTICE or ngx.WARN, 'berth: route table ', file, ' loaded')
          return
        end
        ngx.log(ngx.ERR, 'berth: route table ', file, ' not loaded: ', rerr)
      else
        ngx.log(ngx.ERR, 'berth: route table ', file, ' refused (corrupt): ', problem, '; trying the last good one')
      end
    end
  end
end

local function page(status, title, text, retry)
  ngx.status = status
  ngx.header['Content-Type'] = 'text/html; charset=utf-8'
  ngx.header['Cache-Control'] = 'no-store'
  if retry then ngx.header['Retry-After'] = tostring(retry) end
  ngx.print("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><title>", title,
    "</title></head>\n<body>", text, '</body></html>\n')
  return ngx.exit(status)
end

-- ---- Per-team limits at the edge ----
-- Fields 6-8 of an `up` entry: <rate per minute> <burst> <connections>, from
-- the team's plan (orchestrator/src/stacks/plan-edge.ts). Their state lives in
-- lua_shared_dict berth_limits, which every worker shares:
--   r:<slug>  the leaky bucket "<excess> <last ms>": lua-resty-limit-traffic's
--             resty.limit.req algorithm (nginx limit_req's), without delay:
--             `burst` requests over the rate are served at once, then 429
--   l:<slug>  a lock of a few ms around the bucket's read-modify-write
--             (dict:add is atomic across workers; a get then a set is not)
--   c:<slug>  requests in flight (dict:incr is atomic), lowered in the log phase
-- A WebSocket upgrade passes both: it is refused by no rate, and an open
-- WebSocket (a board left open for hours) does not hold one of the team's
-- connection slots, else 50 open boards would lock the team out of its own
-- space. A worker that dies mid-request leaves its slot taken until nginx
-- restarts (the dict is kept across reloads); the bounds are generous.
local MAX_RATE, MAX_BURST, MAX_CONN = 6000000, 100000, 100000

local function int_in(text, min, max)
  if #text > 7 or not (text == '0' or text:find('^[1-9][0-9]*$')) then return false end
  local n = tonumber(text)
  return n >= min and n <= max
end

-- nil, or "<field>: <problem>" for fields 6-8 of an up entry.
function M.limits_problem(rate, burst, conn)
  if not int_in(rate, 1, MAX_RATE) then return 'ratePerMinute: must be an integer from 1 to ' .. MAX_RATE end
  if not int_in(burst, 0, MAX_BURST) then return 'burst: must be an integer from 0 to ' .. MAX_BURST end
  if not int_in(conn, 1, MAX_CONN) then return 'connections: must be an integer from 1 to ' .. MAX_CONN end
end

-- One request into the team's bucket: 0, or the seconds until one would pass.
local function leak(dict, slug, per_minute, burst)
  local key, lock = 'r:' .. slug, 'l:' .. slug
  -- The lock expires by itself (10 ms) should a worker die holding it; after
  -- 20 tries the request goes on unlocked: a rare lost update beats a stall.
  local locked = false
  for _ = 1, 20 do
    locked = dict:add(lock, true, 0.01)
    if locked then break end
    ngx.sleep(0.001)
  end
  local now = ngx.now() * 1000
  local rate = per_minute / 60000 -- requests per ms
  local excess = 0
  local held = dict:get(key)
  if held then
    local e, last = held:match('^(%S+) (%S+)$')
    excess = math.max((tonumber(e) or 0) - rate * math.max(now - (tonumber(last) or now), 0) + 1, 0)
  end
  local wait = 0
  if excess > burst then
    wait = math.max(math.ceil((excess - burst) / rate / 1000), 1)
  else
    -- Gone once drained (plus a second): an idle team holds nothing.
    dict:set(key, excess .. ' ' .. now, excess / rate / 1000 + 1)
  end
  if locked then dict:delete(lock) end
  return wait
end

-- In M.route, for a team that is up; `edge` is "<rate> <burst> <connections>".
-- Answers 429 itself when the team is over either limit.
function M.limit(slug, edge)
  local dict = ngx.shared.berth_limits
  local per_minute, burst, conn = edge:match('^(%d+) (%d+) (%d+)$')
  if not dict or not per_minute then return end
  -- A WebSocket handshake (RFC 6455 4.1: a GET with Upgrade and a key)
  -- passes a team whose plain requests are over their rate: it draws on a
  -- bucket of its own (same rate and burst), so live boards keep connecting
  -- while the team is busy, and a flood of GETs dressed as handshakes is still
  -- limited. An open WebSocket holds no connection slot: fifty open boards
  -- must not lock a team out.
  local upgrade, wskey = ngx.var.http_upgrade, ngx.var.http_sec_websocket_key
  local handshake = upgrade and wskey and #upgrade == 9 and upgrade:lower() == 'websocket' and ngx.req.get_method() == 'GET'
  local wait = leak(dict, handshake and 'ws:' .. slug or slug, tonumber(per_minute), tonumber(burst))
  if handshake then
    if wait > 0 then
      return page(429, slug .. ' is busy', "<h1>Too many requests</h1>\n<p>This team's space gets more WebSocket connections than its plan allows. Please try again in a moment.</p>", wait)
    end
    return
  end
  if wait > 0 then
    return page(429, slug .. ' is busy', "<h1>Too many requests</h1>\n<p>This team's space gets more requests than its plan allows. Please try again in a moment.</p>", wait)
  end
  local key = 'c:' .. slug
  local n, err = dict:incr(key, 1, 0)
  if not n then
    ngx.log(ngx.ERR, 'berth: connection count of ', slug, ' not kept: ', err)
    return
  end
  if n > tonumber(conn) then
    dict:incr(key, -1)
    return page(429, slug .. ' is busy', "<h1>Too many requests at once</h1>\n<p>This team's space is answering as many requests as its plan allows at once. Please try again in a moment.</p>", 1)
  end
  -- A variable, not ngx.ctx: it survives error_page's jump to @berth_unavailable.
  ngx.var.berth_limit_conn = slug
end

-- Log phase: the request no longer holds its connection slot.
function M.log_limits()
  local slug = ngx.var.berth_limit_conn
  if slug and slug ~= '' then
    ngx.shared.berth_limits:incr('c:' .. slug, -1)
  end
end

-- log_by_lua of the team server (location / and @berth_unavailable inherit it): once
-- per request, in whichever of the two it ends.
function M.log()
  M.log_limits()
  M.log_activity()
end

-- access_by_lua of every team request: the one place a request's host is
-- looked up. Sets $berth_upstream for proxy_pass, or answers itself.
function M.route()
  local host = ngx.var.host
  local value = ngx.shared.berth_routes:get(host)
  if not value then
    if ngx.var.uri == '/__berth/healthz' then
      ngx.header['Content-Type'] = 'text/plain'
      ngx.print('ok\n')
      return ngx.exit(200)
    end
    ngx.status = 404
    ngx.header['Content-Type'] = 'text/plain'
    ngx.print('No team lives at this address.\n')
    return ngx.exit(404)
  end
  local slug, kind, a, b, edge = value:match('^(%S+) (%S+) (%S+) ?(%S*) ?(.*)$')
  ngx.var.berth_slug = slug
  if kind == 'up' then
    if edge ~= '' then M.limit(slug, edge) end
    -- client_max_body_size cannot change per request; Content-Length is
    -- checked here against the team's limit, and the global
    -- client_max_body_size caps bodies sent without one (chunked).
    local length = tonumber(ngx.var.http_content_length or '')
    if length and length > tonumber(b) then
      return page(413, 'Request too large',
        "<h1>Request too large</h1>\n<p>This team's space accepts request bodies up to " .. b .. ' bytes.</p>')
    end
    ngx.var.berth_upstream = '127.0.0.1:' .. a
  elseif kind == 'sleeping' then
    return M.wake(slug, a)
  else
    local d = DOWN[a]
    return page(503, slug .. ' is ' .. a, "<h1>This team's space is " .. a .. '</h1>\n<p>' .. d.note .. '</p>', d.retry)
  end
end

-- ---- Wake on request ----
-- A frozen or sleeping team's entry names the orchestrator's wake listener
-- (orchestrator/src/sleep/wake-server.ts, on 127.0.0.1 only). The request is
-- held here, in the access phase, while the listener wakes the team; every
-- request for the team shares one wake there. Once the app answers, the held
-- request goes straight to it. A browser still waiting after about a second
-- gets a small page that reloads itself; any other client is held up to the
-- orchestrator's bound, then answered 503 with Retry-After. Every ask is
-- bounded: an orchestrator that is gone (refused) or stuck (read timeout)
-- gets the visitor a 503 within seconds, never a hang.
local ASK_MS = 1000
local ASK_CONNECT_MS, ASK_READ_MS = 1000, ASK_MS + 3000

local function escape_html(text)
  return (text:gsub('[&<>"\']', { ['&'] = '&amp;', ['<'] = '&lt;', ['>'] = '&gt;', ['"'] = '&quot;', ["'"] = '&#39;' }))
end

-- One ask: status, body; or nil, why.
local function ask_wake(addr, slug)
  local host, port = addr:match('^([%d.]+):(%d+)$')
  local sock = ngx.socket.tcp()
  sock:settimeouts(ASK_CONNECT_MS, ASK_CONNECT_MS, ASK_READ_MS)
  local ok, err = sock:connect(host, tonumber(port))
  if not ok then return nil, 'connect: ' .. tostring(err) end
  ok, err = sock:send('GET /wake/' .. slug .. '?wait=' .. ASK_MS .. ' HTTP/1.0\r\nHost: berth-wake\r\n\r\n')
  if not ok then sock:close() return nil, 'send: ' .. tostring(err) end
  local line, rerr = sock:receive('*l')
  if not line then sock:close() return nil, 'read: ' .. tostring(rerr) end
  local status = tonumber(line:match('^HTTP/1%.%d (%d%d%d)'))
  repeat
    local header = sock:receive('*l')
  until not header or header == ''
  local body = sock:receive('*a') or ''
  sock:close()
  if not status then return nil, 'read: not an HTTP answer' end
  return status, body:sub(1, 512):gsub('%s+$', '')
end

local function wants_html()
  local accept = ngx.var.http_accept
  return accept ~= nil and accept:find('text/html', 1, true) ~= nil
end

function M.wake(slug, addr)
  local browser = wants_html()
  local started = ngx.now()
  while true do
    local status, body = ask_wake(addr, slug)
    if status == 200 then
      local port = body:match('^up (%d+)$')
      if port and port_ok(port) then
        ngx.var.berth_upstream = '127.0.0.1:' .. port
        return
      end
      status, body = nil, 'read: a bad answer'
    end
    if status == 202 then
      local hold = tonumber(body:match('^waking (%d+)$') or '') or 30000
      if browser then
        ngx.status = 503
        ngx.header['Content-Type'] = 'text/html; charset=utf-8'
        ngx.header['Cache-Control'] = 'no-store'
        ngx.header['Retry-After'] = '1'
        ngx.header['X-Berth-Route'] = slug
        -- Continues by itself: the page reloads every second until the team answers.
        ngx.print("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><meta http-equiv='refresh' content='1'>",
          '<title>', slug, " is waking up</title></head>\n<body><h1>This team's space is waking up</h1>\n",
          '<p>It was asleep and is starting now. This page continues by itself in a moment.</p></body></html>\n')
        return ngx.exit(503)
      end
      if (ngx.now() - started) * 1000 >= hold then
        ngx.header['X-Berth-Route'] = slug
        return page(503, slug .. ' is waking', "<h1>This team's space is waking up</h1>\n<p>It is taking longer than usual. Please try again in a moment.</p>", 5)
      end
    elseif status == 404 then
      return page(503, slug .. ' is not here', "<h1>This team's space is not available</h1>\n<p>Please try again later.</p>", 30)
    elseif status == 503 and body:match('^full') then
      -- The host has no room to wake it now (admission); the team is fine and stays asleep.
      ngx.header['X-Berth-Route'] = slug
      return page(503, slug .. ' cannot wake yet', "<h1>This team's space cannot be woken up right now</h1>\n<p>The platform is full at the moment. Please try again in a few minutes.</p>", 60)
    elseif status == 503 then
      local reason = body:match('^failed (.*)$') or 'unknown'
      ngx.header['X-Berth-Route'] = slug
      return page(503, slug .. ' could not wake', "<h1>This team's space could not be woken up</h1>\n<p>" .. escape_html(reason) ..
        '</p>\n<p>The platform\'s operators have been told.</p>', 60)
    else
      -- The orchestrator is gone or stuck (or said something unexpected): a clean 503 now, never a hang.
      ngx.log(ngx.WARN, 'berth: wake of ', slug, ' not asked: ', tostring(body or status))
      ngx.header['X-Berth-Route'] = slug
      return page(503, slug .. ' is waking', "<h1>This team's space is waking up</h1>\n<p>The platform is busy right now. Please try again in a moment.</p>", 5)
    end
  end
end

-- error_page 502 504: nothing listens on the app's port, or it did not answer.
function M.unavailable()
  local slug = ngx.var.berth_slug
  -- A named location: the add_header of location / does not apply here.
  ngx.header['X-Berth-Route'] = slug
  if ngx.var.berth_wake ~= '' then
    return page(503, slug .. ' is waking', "<h1>This team's space is waking up</h1>\n<p>Please try again in a moment.</p>", 10)
  end
  return page(503, slug .. ' is not answering', "<h1>This team's space is not answering</h1>\n<p>Its app at " ..
    ngx.var.host .. ' did not answer just now. It may be restarting; please try again in a moment.</p>', 10)
end

local function reply(status, text)
  ngx.status = status
  ngx.header['Content-Type'] = 'text/plain'
  ngx.print(text, '\n')
  return ngx.exit(status)
end

local function body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if data then return data end
  local file = ngx.req.get_body_file()
  return file and read_file(file) or ''
end

-- content_by_lua of the control server (unix socket):
--   PUT /entries          body: one entry line  -> 204, or 400 "<field>: <problem>"
--   DELETE /entries/<host>                      -> 204
--   GET /entries          every entry, one line each
--   GET /entries/<host>   that entry, or 404
--   PUT /table            body: a whole table   -> 204 (replaces every entry)
function M.control()
  local dict = ngx.shared.berth_routes
  local method, uri = ngx.req.get_method(), ngx.var.uri
  if uri == '/activity' and method == 'GET' then return M.activity_report() end
  if uri == '/entries' and method == 'PUT' then
    local length = tonumber(ngx.var.http_content_length or '')
    if length and length > MAX_LINE + 1 then return reply(400, 'entry: longer than ' .. MAX_LINE .. ' bytes') end
    local line = body():gsub('\n$', '')
    local host, value = M.parse(line)
    if not host then return reply(400, value) end
    local ok, err = dict:safe_set(host, value)
    if not ok then return reply(507, 'shared memory: ' .. tostring(err)) end
    return ngx.exit(204)
  elseif uri == '/entries' and method == 'GET' then
    local out = {}
    for _, host in ipairs(dict:get_keys(0)) do
      local value = dict:get(host)
      if value then out[#out + 1] = host .. ' ' .. value .. '\n' end
    end
    table.sort(out)
    ngx.header['Content-Type'] = 'text/plain'
    ngx.print(out)
    return
  elseif method == 'GET' and uri:find('^/entries/') then
    local host = uri:sub(#'/entries/' + 1)
    local value = host_ok(host) and dict:get(host)
    if not value then return reply(404, 'host: no entry') end
    return reply(200, host .. ' ' .. value)
  elseif method == 'DELETE' and uri:find('^/entries/') then
    local host = uri:sub(#'/entries/' + 1)
    if not host_ok(host) then return reply(400, 'host: not a valid host name') end
    local old = dict:get(host)
    dict:delete(host)
    if old then M.forget_activity(old:match('^%S+')) end
    return ngx.exit(204)
  elseif uri == '/table' and method == 'PUT' then
    local map, problem = M.parse_table(body())
    if not map then return reply(400, problem) end
    local ok, err = replace(dict, map)
    if not ok then return reply(507, err) end
    return ngx.exit(204)
  end
  return reply(404, 'unknown control request ' .. method .. ' ' .. uri)
end

-- Activity from the edge: per team, in the lua_shared_dict "berth_activity",
-- four keys: r:<slug> requests, e:<slug> errors, w:<slug> open WebSockets,
-- t:<slug> last request (ms since the epoch). The slug is the one M.route
-- found in the route table ($berth_slug), never a header: a host no team owns
-- (404) is not counted. An error is any answer with status >= 500, Berth's
-- own 503 pages included (a team that is down, or an app that did not answer):
-- that is what the visitor got. A request is counted when it ends (log phase),
-- a WebSocket when it ends too; it is an open WebSocket from its 101 until then.
-- Counters start at 0 whenever nginx starts (the dict is new); the boot key
-- tells the reader so.

-- header_filter_by_lua: a 101 went out, the connection is now a WebSocket.
function M.count_upgrade()
  if ngx.status ~= 101 then return end
  local slug = ngx.var.berth_slug
  if slug == nil or slug == '' then return end
  ngx.shared.berth_activity:incr('w:' .. slug, 1, 0)
end

-- Log phase of every team request; for a WebSocket it runs when the
-- connection closes. Atomic incr with init: no lock, no read-modify-write.
function M.log_activity()
  local slug = ngx.var.berth_slug
  if slug == nil or slug == '' then return end
  local dict = ngx.shared.berth_activity
  local status = ngx.status
  dict:incr('r:' .. slug, 1, 0)
  if status >= 500 then dict:incr('e:' .. slug, 1, 0) end
  if status == 101 then dict:incr('w:' .. slug, -1, 0) end
  dict:set('t:' .. slug, math.floor(ngx.now() * 1000))
end

-- A team's route is gone (deleted): so are its counters, so that a new team
-- taking the slug later starts from 0.
function M.forget_activity(slug)
  local dict = ngx.shared.berth_activity
  for _, kind in ipairs({ 'r:', 'e:', 'w:', 't:' }) do dict:delete(kind .. slug) end
end


local function activity_boot(dict)
  -- Set by the first read after nginx started (add never overwrites): a new
  -- value means every counter started again from 0.
  dict:add('boot', string.format('%d-%d', math.floor(ngx.now() * 1000), ngx.worker.pid()))
  return dict:get('boot')
end

-- GET /activity on the control socket: every team in one answer.
--   berth-activity 1 <boot>
--   <slug> <last request ms, 0 if none> <requests> <errors> <open websockets>
function M.activity_report()
  local dict = ngx.shared.berth_activity
  local out = { 'berth-activity 1 ', activity_boot(dict), '\n' }
  local seen = {}
  for _, key in ipairs(dict:get_keys(0)) do
    local slug = key:match('^[rewt]:(.+)$')
    if slug and not seen[slug] then
      seen[slug] = true
      local ws = dict:get('w:' .. slug) or 0
      out[#out + 1] = table.concat({ slug, dict:get('t:' .. slug) or 0, dict:get('r:' .. slug) or 0,
        dict:get('e:' .. slug) or 0, ws > 0 and ws or 0 }, ' ') .. '\n'
    end
  end
  ngx.header['Content-Type'] = 'text/plain'
  ngx.print(out)
end

return M

"""The Lua run once in each program's fresh runtime before any user code: the sandbox and the runner."""

PRELUDE = r"""
-- The sandbox of one program: run once in a fresh lupa.lua54 runtime, before any user code.
-- Returns the runner (called by Python once per run) and the state accessors.
-- User code sees only `env`: no os, io, require, dofile, debug, package, coroutine, collectgarbage;
-- load is text-only into env; string.dump is gone; the string metatable is locked.
local sethook, pcall_, xpcall_, error_, type_, tostring_, select_ = debug.sethook, pcall, xpcall, error, type, tostring, select
local unpack, concat, huge, collect, tointeger = table.unpack, table.concat, math.huge, collectgarbage, math.tointeger
local load_, pairs_, move = load, pairs, table.move
local fmt, gsub, sub, byte, find, ulen, mtype, floor = string.format, string.gsub, string.sub, string.byte,
  string.find, utf8.len, math.type, math.floor

string.dump = nil
getmetatable("").__metatable = "locked"

-- Lua's pattern matcher is C: the count hook never fires inside it, and backtracking makes it polynomial
-- (`("a"):rep(3000):find(".-.-.-x")` runs for minutes). Each pattern function first bounds the worst
-- case -- about n^k/k! steps from one start for k repetitions (* + - ?), times n starts unless anchored --
-- and refuses a call that could take more than MAX_STEPS (~10 ms of C). Replaced in the string table
-- itself, so that the method form ("s"):find() is covered too; the prelude keeps the originals.
local MAX_STEPS = 2e6
local function bound(what, s, p)
  if type_(s) ~= "string" or type_(p) ~= "string" then return end  -- numbers are short; others fail anyway
  local n, lp, k, i = #s, #p, 0, 1
  while i <= lp do
    local c = byte(p, i)
    if c == 37 then i = i + 2  -- %x
    elseif c == 91 then  -- [set]
      i = i + 1
      if byte(p, i) == 94 then i = i + 1 end  -- [^
      if byte(p, i) == 93 then i = i + 1 end  -- a ] first is a member
      while i <= lp and byte(p, i) ~= 93 do
        if byte(p, i) == 37 then i = i + 1 end
        i = i + 1
      end
      i = i + 1
    else
      if c == 42 or c == 43 or c == 45 or c == 63 then k = k + 1 end  -- * + - ?
      i = i + 1
    end
  end
  if k == 0 then return end
  local steps = 1
  for j = 1, (byte(p, 1) == 94 and k or k + 1) do steps = steps * (n + 1) / j end
  if steps > MAX_STEPS then
    error_(fmt("%s: a pattern with %d repetition(s) on %d bytes could take ~%.0e steps in C, out of reach of "
      .. "the instruction budget (at most %.0e): use a shorter string, fewer of * + - ?, an anchor ^ or a plain "
      .. "find", what, k, n, steps, MAX_STEPS), 3)
  end
end
do
  local find_, match_, gmatch_, gsub_ = string.find, string.match, string.gmatch, string.gsub
  string.find = function(s, p, init, plain)
    if not plain then bound("string.find", s, p) end
    return find_(s, p, init, plain)
  end
  string.match = function(s, p, init) bound("string.match", s, p); return match_(s, p, init) end
  string.gmatch = function(s, p, init) bound("string.gmatch", s, p); return gmatch_(s, p, init) end
  string.gsub = function(s, p, r, n) bound("string.gsub", s, p); return gsub_(s, p, r, n) end
  -- table.sort is C too when it has no comparator of Lua's (a comparator's own code is counted)
  local sort_, MAX_SORT = table.sort, 100000
  table.sort = function(t, less)
    if less == nil and type_(t) == "table" and #t > MAX_SORT then
      error_(fmt("table.sort: %d items without a comparator, at most %d (the sort is C, out of reach of the "
        .. "instruction budget); give a comparator function", #t, MAX_SORT), 2)
    end
    return sort_(t, less)
  end
end

local BUDGET_MSG = "instruction budget exceeded"
local MEMORY_MSG = "not enough memory"
local MAX_LOGS, MAX_LOG_CHARS = 100, 1000

-- The instruction budget: a count hook installed around the program's own code only (the runner's code
-- runs without it: Lua 5.4 sends every instruction of every function through its hook check while any
-- hook is set), firing every STEP instructions (a tenth of the budget, 100-10,000) and adding them up in
-- `used`; it is cleared when the program returns, so no hook is left behind between runs. A run stops
-- within STEP instructions of its budget.
local spent, used, limit, STEP = false, 0, 0, 10000
local hook
hook = function()
  used = used + STEP
  if spent or used >= limit then
    if not spent then
      spent = true
      sethook(hook, "", 100)  -- keep firing: a pcall that swallowed the error cannot run on
    end
    error_(BUDGET_MSG, 0)
  end
end

local IN, SCHED, NOW, PRIORITY, WRITABLE = {}, {}, 0, 10, {}
local W, A, L, R, nw, na, nl = {}, {}, {}, {}, 0, 0, 0
local S, O, U = {}, {}, {}
-- The block outputs of the last KEEP runs stay here (a ring of tables, reused): Python copies a run's
-- outputs out only when its trace is asked for (outputs_of).
local RING, KEEP, ri, gen, fresh = {}, 1, 0, 0, true
-- A run's writes and alarm requests, one per (point, priority) and per alarm name: a later one in the same
-- run replaces the earlier (the run's last word), so no program can hand the engine more of them than it
-- has writes x 16 priorities (and MAX_ALARMS names). WGEN[place] is the last run that wrote the point.
local WGEN, MAX_ALARMS = {}, 100
local S0, U0 = {}, {}  -- the state before the run: put back when it fails
local EMPTY = setmetatable({}, { __newindex = function() end })

local function copy(t)
  local c = {}
  for k, v in pairs_(t) do c[k] = v end
  return c
end

-- Every string that leaves Lua for Python is UTF-8 text (lupa decodes it as such, and a Lua string is any
-- bytes): a byte that is not part of valid UTF-8 becomes U+FFFD, so user code cannot break the engine
-- with one.
local function text(s)
  local n, bad = ulen(s)
  if n then return s end
  local parts, i = {}, 1
  while bad do
    parts[#parts + 1] = sub(s, i, bad - 1)
    parts[#parts + 1] = "\239\191\189"
    i = bad + 1
    n, bad = ulen(s, i)
  end
  parts[#parts + 1] = sub(s, i)
  return concat(parts)
end

local env = {}
for _, k in ipairs({ "assert", "error", "ipairs", "next", "pairs", "select", "tonumber", "tostring", "type",
  "rawequal", "rawget", "rawlen", "rawset", "setmetatable", "getmetatable" }) do
  env[k] = _G[k]
end
env.math, env.string, env.table, env.utf8 = copy(math), copy(string), copy(table), copy(utf8)
env.unpack = unpack
env._G = env
-- no finalizers: Lua runs a __gc with hooks off (no budget), whenever a collection happens to come, in any
-- later run or between runs; `while true do end` in one would stop the engine. (A metatable marks its
-- object for finalization only if it has __gc when set, so looking at that moment is enough.)
local setmetatable_, rawget_ = setmetatable, rawget
env.setmetatable = function(t, mt)
  if type_(mt) == "table" and rawget_(mt, "__gc") ~= nil then
    error_("setmetatable: a __gc finalizer is not allowed in a program", 2)
  end
  return setmetatable_(t, mt)
end

-- pcall and xpcall cannot swallow the budget or a memory error
local function guard(ok, ...)
  if spent then error_(BUDGET_MSG, 0) end
  if not ok and (...) == MEMORY_MSG then error_(MEMORY_MSG, 0) end
  return ok, ...
end
env.pcall = function(f, ...) return guard(pcall_(f, ...)) end
env.xpcall = function(f, handler, ...) return guard(xpcall_(f, handler, ...)) end
local MAX_LOAD = 262144  -- bytes of source: the parser is C (no budget), ~20 ns a byte
env.load = function(chunk, name)
  if type_(chunk) ~= "string" then error_("load takes a string of Lua source", 2) end
  if #chunk > MAX_LOAD then error_(fmt("load: %d bytes of source, at most %d", #chunk, MAX_LOAD), 2) end
  return load_(chunk, name, "t", env)
end

function env.tonum(v)
  if v == true then return 1 elseif v == false then return 0 end
  return tonumber(v) or 0
end
function env.tobool(v)
  if type_(v) == "number" then return v ~= 0 end
  return v and true or false
end
function env.now() return NOW end
local READ, ARGS = {}, {}  -- point -> its place among the run's arguments (the fast way in), the arguments
function env.read(point)
  local i = READ[point]
  if i ~= nil and ARGS ~= EMPTY then return ARGS[i] end
  return IN[point]
end
function env.schedule(name) return SCHED[name] end
function env.occupied(name)
  if type_(name) ~= "string" then return nil end
  return SCHED[name .. "/occupied"]
end
function env.write(point, value, priority)
  local at = WRITABLE[point]  -- its place among the program's writes: Python turns it back into the point
  if not at then
    if type_(point) ~= "string" then error_("write: the point must be a string", 2) end
    error_("write: " .. point .. " is not among the program's writes", 2)
  end
  if value ~= nil then
    local t = type_(value)
    if t == "number" then
      if value ~= value or value == huge or value == -huge then
        error_("write: " .. point .. ": the value must be a finite number, a boolean or nil (release)", 2)
      end
    elseif t ~= "boolean" then
      error_("write: " .. point .. ": the value must be a finite number, a boolean or nil (release)", 2)
    end
  end
  if priority == nil or priority == PRIORITY then priority = PRIORITY
  elseif type_(priority) ~= "number" or priority < 1 or priority > 16 or priority % 1 ~= 0 then
    error_("write: " .. point .. ": the priority must be an integer 1-16", 2)
  else
    priority = tointeger(priority)
  end
  if WGEN[at] == gen then  -- this point again in the same run: at the same priority, the last value wins
    for i = 1, nw, 3 do
      if W[i] == at and W[i + 2] == priority then W[i + 1] = value; return end
    end
  else
    WGEN[at] = gen
  end
  W[nw + 1], W[nw + 2], W[nw + 3] = at, value, priority
  nw = nw + 3
end
function env.alarm(name, active, severity, message)
  if type_(name) ~= "string" then error_("alarm: the name must be a string", 2) end
  name = text(name)
  local at = na
  for i = 1, na, 4 do  -- the same alarm again in this run: the last request wins (at most MAX_ALARMS to look at)
    if A[i] == name then at = i - 1; break end
  end
  if at == na then
    if na >= MAX_ALARMS * 4 then error_("alarm: more than " .. MAX_ALARMS .. " alarms in one run", 2) end
    na = na + 4
  end
  A[at + 1], A[at + 2] = name, active and true or false
  A[at + 3], A[at + 4] = text(tostring_(severity or "medium")), text(tostring_(message or ""))
end
local function log_at(level, ...)
  if nl >= MAX_LOGS * 2 then return end
  local parts = {}
  for i = 1, select_("#", ...) do parts[i] = tostring_((select_(i, ...))) end
  local line = concat(parts, " ")
  if #line > MAX_LOG_CHARS then line = sub(line, 1, MAX_LOG_CHARS) .. "..." end  -- (may cut a character: text())
  L[nl + 1], L[nl + 2] = text(tostring_(level)), text(line)
  nl = nl + 2
end
env.log_at = log_at
env.log = function(...) log_at("info", ...) end
env.print = env.log
function env.state_get(key) return U[key] end
function env.state_set(key, value)
  if type_(key) ~= "string" then error_("state_set: the key must be a string", 2) end
  local t = type_(value)
  if t == "function" or t == "userdata" or t == "thread" then error_("state_set: a " .. t .. " cannot be kept", 2) end
  U[key] = value
end

local CHUNK, NREADS, NSLOTS, SNAPSHOT, BUDGET = nil, 0, 0, false, 0

local function compile(source, name)
  local chunk, err = load_(source, "=" .. name, "t", env)
  if chunk then CHUNK = chunk; return chunk end
  return nil, text(err)
end

-- What stays the same from run to run, given once: the default priority, the places of the writes and
-- reads, the budget, the runs kept, the number of output slots and whether a run snapshots the state.
local function configure(priority, writable, reads, nreads, budget, keep, nslots, snapshot)
  KEEP = keep
  STEP = budget // 10
  if STEP < 100 then STEP = 100 elseif STEP > 10000 then STEP = 10000 end
  PRIORITY, WRITABLE, READ, NREADS = priority, writable, reads, nreads
  BUDGET, NSLOTS, SNAPSHOT = budget, nslots, snapshot
end

-- dst becomes a copy of src, reusing dst's own tables: the same keys each run cost no allocation
local function sync(dst, src, depth)
  for k, v in pairs_(src) do
    if type_(v) == "table" and depth < 32 then
      local d = dst[k]
      if type_(d) ~= "table" or d == v then d = {}; dst[k] = d end
      sync(d, v, depth + 1)
    elseif dst[k] ~= v then
      dst[k] = v
    end
  end
  for k in pairs_(dst) do
    if src[k] == nil then dst[k] = nil end
  end
end

-- One run, ONE call from Python: the values of the program's reads come as arguments in the order of its
-- reads (or, `inputs` given, as one table), the schedules as a table; everything the run gives back as
-- one flat list: the run's number, then -1, the fault and the error of a failed run, or the counts of the
-- values of its writes (3 each), alarm requests (4 each) and log lines (2 each) followed by those values.
local ARGS8 = {}  -- the arguments of a program that reads at most 8 points: one table, reused
local function run(now, schedules, inputs, ...)
  IN, SCHED, NOW = inputs or EMPTY, schedules or EMPTY, now
  if inputs ~= nil then ARGS = EMPTY
  elseif NREADS <= 2 then  -- (as few stores as the program has reads: read() looks only at its own)
    ARGS8[1], ARGS8[2] = ...
    ARGS = ARGS8
  elseif NREADS <= 4 then
    ARGS8[1], ARGS8[2], ARGS8[3], ARGS8[4] = ...
    ARGS = ARGS8
  elseif NREADS <= 8 then
    ARGS8[1], ARGS8[2], ARGS8[3], ARGS8[4], ARGS8[5], ARGS8[6], ARGS8[7], ARGS8[8] = ...
    ARGS = ARGS8
  else ARGS = { ... } end
  nw, na, nl = 0, 0, 0
  local snapshot, nslots = SNAPSHOT, NSLOTS
  if snapshot then
    sync(S0, S, 0)
    sync(U0, U, 0)
  end
  ri = ri % KEEP + 1
  gen = gen + 1
  local out = RING[ri]
  if out == nil then out = {}; RING[ri] = out end
  if fresh then  -- no run before (or it failed): the outputs start empty
    for k = 1, nslots do out[k] = nil end
    fresh = false
  else  -- blocks see the outputs of the run before until they set their own
    move(O, 1, nslots, 1, out)
  end
  O = out
  spent, used, limit = false, 0, BUDGET
  sethook(hook, "", STEP)
  local ok, err = pcall_(CHUNK, S, out, now)
  sethook()
  IN, SCHED, ARGS = EMPTY, EMPTY, EMPTY
  if ok then
    if na == 0 and nl == 0 then return gen, nw, 0, 0, unpack(W, 1, nw) end
    local n = nw
    if nw > 0 then move(W, 1, nw, 1, R) end
    if na > 0 then move(A, 1, na, n + 1, R); n = n + na end
    if nl > 0 then move(L, 1, nl, n + 1, R); n = n + nl end
    return gen, nw, na, nl, unpack(R, 1, n)
  end
  local fault
  if spent then
    fault, err = "budget", BUDGET_MSG .. " (" .. BUDGET .. " instructions)"
  elseif err == MEMORY_MSG then
    fault = "memory"
    collect()
  else
    fault = "error"
    local t = type_(err)
    if t ~= "string" and t ~= "number" then err = "error object of type " .. t else err = text(tostring_(err)) end
  end
  if snapshot then S, S0, U, U0 = S0, S, U0, U end
  fresh = true
  return gen, -1, fault, err
end

-- the outputs of run number g (nil when it is no longer among the last KEEP)
local function outputs_of(g, n)
  if g > gen or g <= gen - KEEP then return nil end
  local t = RING[(ri - (gen - g) - 1) % KEEP + 1]
  for k = 1, n do  -- a block may output a string (CustomScript): as text
    local v = t[k]
    if type_(v) == "string" and not ulen(v) then t[k] = text(v) end
  end
  return true, unpack(t, 1, n)
end

-- The persistent state as JSON text, written here (one string to Python, not a walk of the tables from
-- Python): a table whose keys are exactly 1..n is an array, any other an object (keys as text); numbers
-- that are not finite, and functions, are null; a whole float keeps its ".0"; nesting stops at 32.
local function jnum(v)
  if mtype(v) == "integer" then return tostring_(v) end
  if v ~= v or v == huge or v == -huge then return "null" end
  if v == floor(v) and v > -1e15 and v < 1e15 then return fmt("%.1f", v) end
  return fmt("%.17g", v)  -- 17 digits: the same number when read back
end
local ESC = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r',
  ['\t'] = '\\t' }
local function esc(c) return ESC[c] or fmt("\\u%04x", byte(c)) end
local function jstr(s)
  if not find(s, '[%c"\\\128-\255]') then return '"' .. s .. '"' end  -- plain ASCII: as it is
  return '"' .. gsub(text(s), '[%c"\\]', esc) .. '"'
end
local function encode(v, depth, out, o)
  local t = type_(v)
  if t == "number" then o = o + 1; out[o] = jnum(v)
  elseif t == "boolean" then o = o + 1; out[o] = v and "true" or "false"
  elseif t == "string" then o = o + 1; out[o] = jstr(v)
  elseif t == "table" and depth < 32 then
    local n, seq = 0, true
    for k in next, v do
      if mtype(k) ~= "integer" or k < 1 then seq = false; break end
      n = n + 1
    end
    if seq and n > 0 then  -- n distinct integer keys >= 1: 1..n when each of 1..n is there
      for i = 1, n do if rawget(v, i) == nil then seq = false; break end end
    end
    if seq and n > 0 then
      o = o + 1; out[o] = "["
      for i = 1, n do
        if i > 1 then o = o + 1; out[o] = "," end
        o = encode(rawget(v, i), depth + 1, out, o)
      end
      o = o + 1; out[o] = "]"
    else
      o = o + 1; out[o] = "{"
      local first = true
      for k, x in next, v do
        if not first then o = o + 1; out[o] = "," end
        first = false
        local tk = type_(k)
        o = o + 1; out[o] = jstr(tk == "string" and k or tk == "number" and jnum(k) or tostring_(k))
        o = o + 1; out[o] = ":"
        o = encode(x, depth + 1, out, o)
      end
      o = o + 1; out[o] = "}"
    end
  else o = o + 1; out[o] = "null" end
  return o
end
local OUT = {}  -- the pieces of the text, reused (concat takes only the first o)
local function state_json()
  local out = OUT
  out[1] = '{"blocks":'
  local o = encode(S, 0, out, 1)
  o = o + 1; out[o] = ',"user":'
  o = encode(U, 0, out, o)
  out[o + 1] = "}"
  local text_ = concat(out, "", 1, o + 1)
  if o > 4096 then OUT = {} end  -- a large state's pieces are not kept between saves
  return text_
end
local function set_state(blocks, user) S, U, fresh = blocks or {}, user or {}, true end

return compile, configure, run, outputs_of, state_json, set_state
"""

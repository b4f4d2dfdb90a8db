"""The Lua run once in each program's fresh runtime before any user code: the sandbox and the runner."""

PRELUDE = r"""
-- The sandbox of one program: run once in a fresh lupa.lua54 runtime, before any user code.
-- Returns the runner (called by Python once per run) and the state accessors.
-- User code sees only `env`: no os, io, require, dofile, debug, package, coroutine, collectgarbage;
-- load is text-only into env; string.dump is gone; the string metatable is locked.
local sethook, pcall_, xpcall_, error_, type_, tostring_, select_ = debug.sethook, pcall, xpcall, error, type, tostring, select
local unpack, concat, huge, collect = table.unpack, table.concat, math.huge, collectgarbage
local load_, pairs_ = load, pairs

string.dump = nil
getmetatable("").__metatable = "locked"

local BUDGET_MSG = "instruction budget exceeded"
local MEMORY_MSG = "not enough memory"
local MAX_LOGS, MAX_LOG_CHARS = 100, 1000

local spent = false
local function hook()
  spent = true
  sethook(hook, "", 100)  -- keep firing: a pcall that swallowed the error cannot run on
  error_(BUDGET_MSG, 0)
end

local IN, SCHED, NOW, PRIORITY, WRITABLE = {}, {}, 0, 10, {}
local W, A, L, nw, na, nl = {}, {}, {}, 0, 0, 0
local S, O, U = {}, {}, {}

local function copy(t)
  local c = {}
  for k, v in pairs_(t) do c[k] = v end
  return c
end

local env = {}
for _, k in ipairs({ "assert", "error", "ipairs", "next", "pairs", "select", "tonumber", "tostring", "type",
  "rawequal", "rawget", "rawlen", "rawset", "setmetatable", "getmetatable" }) do
  env[k] = _G[k]
end
env.math, env.string, env.table, env.utf8 = copy(math), copy(string), copy(table), copy(utf8)
env.unpack = unpack
env._G = env

-- pcall and xpcall cannot swallow the budget or a memory error
local function guard(ok, ...)
  if spent then error_(BUDGET_MSG, 0) end
  if not ok and (...) == MEMORY_MSG then error_(MEMORY_MSG, 0) end
  return ok, ...
end
env.pcall = function(f, ...) return guard(pcall_(f, ...)) end
env.xpcall = function(f, handler, ...) return guard(xpcall_(f, handler, ...)) end
env.load = function(chunk, name)
  if type_(chunk) ~= "string" then error_("load takes a string of Lua source", 2) end
  return load_(chunk, name, "t", env)
end

local function scalar(v)
  local t = type_(v)
  if t == "number" then
    if v ~= v or v == huge or v == -huge then return nil end
    return v
  end
  if t == "boolean" then return v end
  return nil
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
function env.read(point) return IN[point] end
function env.schedule(name) return SCHED[name] end
function env.write(point, value, priority)
  if type_(point) ~= "string" then error_("write: the point must be a string", 2) end
  if not WRITABLE[point] then error_("write: " .. point .. " is not among the program's writes", 2) end
  if value ~= nil and scalar(value) == nil then
    error_("write: " .. point .. ": the value must be a finite number, a boolean or nil (release)", 2)
  end
  if priority == nil then priority = PRIORITY
  elseif type_(priority) ~= "number" or priority < 1 or priority > 16 or priority % 1 ~= 0 then
    error_("write: " .. point .. ": the priority must be an integer 1-16", 2)
  end
  W[nw + 1], W[nw + 2], W[nw + 3] = point, value, priority
  nw = nw + 3
end
function env.alarm(name, active, severity, message)
  if type_(name) ~= "string" then error_("alarm: the name must be a string", 2) end
  A[na + 1], A[na + 2] = name, active and true or false
  A[na + 3], A[na + 4] = tostring_(severity or "medium"), tostring_(message or "")
  na = na + 4
end
local function log_at(level, ...)
  if nl >= MAX_LOGS * 2 then return end
  local parts = {}
  for i = 1, select_("#", ...) do parts[i] = tostring_((select_(i, ...))) end
  local text = concat(parts, " ")
  if #text > MAX_LOG_CHARS then text = text:sub(1, MAX_LOG_CHARS) .. "..." end
  L[nl + 1], L[nl + 2] = tostring_(level), text
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

local function compile(source, name)
  return load_(source, "=" .. name, "t", env)
end

local function configure(priority, writable)
  PRIORITY = priority
  WRITABLE = writable
end

local function run(chunk, now, inputs, schedules, budget)
  IN, SCHED, NOW = inputs, schedules, now
  W, A, L, nw, na, nl = {}, {}, {}, 0, 0, 0
  spent = false
  sethook(hook, "", budget)
  local ok, err = pcall_(chunk, S, O, now)
  sethook()
  local fault = nil
  if not ok then
    if spent then
      fault, err = "budget", BUDGET_MSG .. " (" .. budget .. " instructions)"
    elseif err == MEMORY_MSG then
      fault = "memory"
      collect()
    else
      fault = "error"
      local t = type_(err)
      if t ~= "string" and t ~= "number" then err = "error object of type " .. t else err = tostring_(err) end
    end
  end
  IN, SCHED = {}, {}
  return ok, fault, err, nw, na, nl, W, A, L
end

local function outputs(n) return unpack(O, 1, n) end
local function get_state() return S, U end
local function set_state(blocks, user) S, U, O = blocks or {}, user or {}, {} end

return compile, configure, run, outputs, get_state, set_state
"""

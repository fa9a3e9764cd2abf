-- Trusted Lua 5.2 bootstrap for the Argyll script sandbox (SCRIPT-6).
--
-- Runs once per runtime, before any user code, and returns the functions the
-- host calls: compile(src) and run(fn, timeout, ...). It captures the
-- dangerous primitives it needs (debug.sethook, debug.setupvalue, load,
-- os.clock) as locals and then removes them from the real globals. User code
-- only ever sees a fresh environment built from the whitelist below, with
-- wrapped pcall/xpcall (a timeout cannot be swallowed), a setmetatable that
-- refuses __gc, plain-only string.find, and no io, os, debug, package,
-- require, dofile, loadfile, load, coroutine, collectgarbage or string.dump.
-- tostring and string.format never show heap addresses: a table or function
-- prints as "table: 1", "function: 2", numbered in order of first printing
-- within the call (distinct values get distinct numbers).

-- Instructions between two looks at the clock. Some single instructions
-- (concatenation, comparison of long strings) cost O(length), so keep this
-- small: the overrun is at most HOOK_EVERY such instructions.
local HOOK_EVERY = 100
local FIND_WORK_LIMIT = 100000000

local debug_sethook = debug.sethook
local debug_setupvalue = debug.setupvalue
local os_clock = os.clock
local load = load
local pcall = pcall
local error = error
local type = type
local tostring = tostring
local select = select
local rawget = rawget
local next = next
local setmetatable = setmetatable
local getmetatable = getmetatable
local string_find = string.find
local table_pack = table.pack
local table_unpack = table.unpack
local string_format = string.format

local TIMEOUT = "script exceeded its time limit"
local OOM = "not enough memory"

local state = { active = false, expired = false, oom = false, deadline = 0 }

local function hook()
  if state.active and os_clock() > state.deadline then
    state.expired = true
    error(TIMEOUT, 0)
  end
end

local function check_state(ok, err)
  if state.expired then
    error(TIMEOUT, 0)
  end
  if not ok and err == OOM then
    state.oom = true
    error(OOM, 0)
  end
end

local function safe_pcall(f, ...)
  local results = table_pack(pcall(f, ...))
  check_state(results[1], results[2])
  return table_unpack(results, 1, results.n)
end

-- xpcall's handler would run inside the failing frame with hooks disabled when
-- the error comes from the hook; run it after unwinding instead.
local function safe_xpcall(f, handler, ...)
  local results = table_pack(pcall(f, ...))
  check_state(results[1], results[2])
  if results[1] then
    return table_unpack(results, 1, results.n)
  end
  return false, handler(results[2])
end

local function safe_setmetatable(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("__gc metamethods are not allowed", 2)
  end
  return setmetatable(t, mt)
end

-- Per-call numbering of printed tables, functions and userdata (weak keys).
local printed = { ids = setmetatable({}, { __mode = "k" }), next = 0 }

local function safe_tostring(v)
  local kind = type(v)
  if kind ~= "table" and kind ~= "function" and kind ~= "userdata" and kind ~= "thread" then
    return tostring(v)
  end
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__tostring") ~= nil then
    return tostring(v)
  end
  local id = printed.ids[v]
  if id == nil then
    printed.next = printed.next + 1
    id = printed.next
    printed.ids[v] = id
  end
  return kind .. ": " .. id
end

local function safe_format(fmt, ...)
  local args = table_pack(...)
  for i = 1, args.n do
    local kind = type(args[i])
    if kind == "table" or kind == "function" or kind == "userdata" or kind == "thread" then
      args[i] = safe_tostring(args[i])
    end
  end
  return string_format(fmt, table_unpack(args, 1, args.n))
end

local function plain_find(s, pattern, init)
  if type(s) == "string" and type(pattern) == "string" and #s * (#pattern + 1) > FIND_WORK_LIMIT then
    error("string.find: subject and pattern too large", 2)
  end
  return string_find(s, pattern, init, true)
end

local function no_print() end

local function copy(source, skip)
  local result = {}
  for k, v in next, source do
    if not (skip and skip[k]) then
      result[k] = v
    end
  end
  return result
end

-- C library functions run to completion; a loop of a few instructions could
-- call many of them between two hooks. Every library function therefore
-- checks the deadline before it starts, so the overrun is one call at most.
local function guarded(lib)
  local result = {}
  for name, f in next, lib do
    if type(f) == "function" then
      result[name] = function(...)
        if state.active and os_clock() > state.deadline then
          state.expired = true
          error(TIMEOUT, 0)
        end
        return f(...)
      end
    else
      result[name] = f
    end
  end
  return result
end

local STRING = copy(string, { dump = true, match = true, gmatch = true, gsub = true })
STRING.find = plain_find
STRING.format = safe_format
STRING = guarded(STRING)
local TABLE = guarded(table)
local MATH = copy(math)
local BIT32 = copy(bit32)

local BASE = {
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
  pcall = safe_pcall, xpcall = safe_xpcall, select = select, tonumber = tonumber,
  tostring = safe_tostring, type = type, rawequal = rawequal, rawlen = rawlen,
  rawget = rawget, rawset = rawset, setmetatable = safe_setmetatable,
  getmetatable = getmetatable, unpack = table_unpack, print = no_print,
  _VERSION = _VERSION,
}

-- Method syntax on strings ("x"):upper() goes through the shared string
-- metatable: point it at a private copy nobody can reach and hide it.
local string_meta = getmetatable("")
string_meta.__index = copy(STRING)
string_meta.__metatable = false

-- Strip the real globals too (defence in depth; user code never sees them).
for _, name in next, {
  "python", "debug", "io", "os", "package", "require", "dofile", "loadfile",
  "load", "loadstring", "collectgarbage", "coroutine", "module",
} do
  _G[name] = nil
end
string.dump = nil

local EMPTY = setmetatable({}, { __newindex = function() error("no environment", 2) end, __metatable = false })

local function make_env()
  local env = copy(BASE)
  env.string = copy(STRING)
  env.table = copy(TABLE)
  env.math = copy(MATH)
  env.bit32 = copy(BIT32)
  env._G = env
  return env
end

local function compile(src)
  return load(src, "=script", "t", EMPTY)
end

local function error_text(err)
  local kind = type(err)
  if kind == "string" then
    return err
  end
  if kind == "number" then
    return tostring(err)
  end
  return "(error object is a " .. kind .. " value)"
end

local function finish(fn, ok, result)
  state.active = false
  debug_sethook()
  debug_setupvalue(fn, 1, EMPTY)
  if state.expired then
    return "time", nil
  end
  if not ok then
    if state.oom or result == OOM then
      return "memory", nil
    end
    return "error", error_text(result)
  end
  return "ok", result
end

local function run(fn, timeout, ...)
  debug_setupvalue(fn, 1, make_env())
  state.expired = false
  state.oom = false
  state.deadline = os_clock() + timeout
  printed.ids = setmetatable({}, { __mode = "k" })
  printed.next = 0
  state.active = true
  debug_sethook(hook, "", HOOK_EVERY)
  return finish(fn, pcall(fn, ...))
end

local function truthy(value)
  return value ~= nil and value ~= false
end

return compile, run, truthy

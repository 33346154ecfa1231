-- Hot loops for LuaJIT's trace compiler: run with `luajit -jv hot.lua`; the -jv lines
-- ("[TRACE   1 hot.lua:...]") show which loops were compiled to arm64 code, and the
-- printed results must be these (tests/real-software/luajit/hot.expected).
local function sum_squares(n)
  local s = 0
  for i = 1, n do s = s + i * i end
  return s
end

local function fib(n)
  local a, b = 0, 1
  for _ = 1, n do a, b = b, (a + b) % 1000000007 end
  return a
end

local function sieve(n)
  local composite, count = {}, 0
  for i = 2, n do
    if not composite[i] then
      count = count + 1
      for j = i * i, n, i do composite[j] = true end
    end
  end
  return count
end

local function strings(n)
  local parts = {}
  for i = 1, n do parts[#parts + 1] = string.format("%x", i) end
  return #table.concat(parts)
end

local function floats(n)
  local x = 0.0
  for i = 1, n do x = x + math.sqrt(i) * 0.5 end
  return string.format("%.3f", x)
end

print("sum_squares", string.format("%.0f", sum_squares(100000)))
print("fib", fib(1000000))
print("sieve", sieve(1000000))
print("strings", strings(100000))
print("floats", floats(1000000))
-- The same hot loop again after the traces exist (runs the compiled code, and
-- re-enters it from the interpreter).
local total = 0
for _ = 1, 20 do total = total + sum_squares(10000) end
print("again", string.format("%.0f", total))

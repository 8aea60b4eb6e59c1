-- Apply one batch of event contributions to ONE entity, atomically, at most once each,
-- and return what scoring needs: window totals, registers, the published state.
--
-- KEYS[1]  the entity's windows hash, e.g. vane:{shop:s1}
-- KEYS[2]  the entity's state hash, e.g. vane:{shop:s1}:st (read only here)
-- ARGV[1]  JSON: {
--   "n":     number of counters of this entity type (fixed order, append-only),
--   "asof":  as-of day d for the returned totals (also returned as of d - 1: the
--            reference of rulebook v2 §7 is the score of the windows ending d - 1),
--   "keep":  first anchor day worth keeping (older day fields are deleted),
--   "rkeep": first day worth keeping for registers,
--   "hz":    horizons in days, e.g. [7, 30, 90],
--   "ttl":   idle time-to-live of the hash, ms (0: leave it, as reads do),
--   "ev":    [[wm_field, "offset", day, [i, delta, ...], [r, "ts", event_id, value, ...],
--             [label, "ts", event_id, text, ...], dropped], ...]
--            dropped = true: an upstream duplicate; it adds nothing, but still moves its
--            partition's watermark, so that re-reading it after its marker expired is
--            skipped by offset (a rewind past the dedupe horizon counts nothing twice),
--   "cap":   where a counter saturates, in a day and in a total (models.windows.SUM_CAP,
--            2^53 - 1: past it a Lua double is no longer exact, past 2^63 Redis wraps),
--   "adopt": {wm_field: legacy_field}: a watermark written before watermarks named their
--            topic ("o<S><p>"), taken over by wm_field when wm_field is absent
-- }
-- Offsets and timestamps travel as strings: Lua prints numbers with 14 digits.
-- Hash fields:
--   "<day>"        the day's counters as unsigned LEB128 varints, trailing zeros trimmed
--   "o<S><p>:<t>"  last applied offset of source stream S, partition p, of the topic
--                  whose identity (name, generation) hashes to t (the watermark)
--   "r<i>"         register i's latest entry: "<ts>|<event_id>|<value>|<day>". One is
--                  enough: registers come from order.paid, anchored at its ts, so a
--                  later entry never leaves the window before an earlier one.
--   "L<name>"      a text label's latest entry: "<ts>|<event_id>|<text>" (a product's
--                  category); kept whatever its age
--   "m"            the smallest day field present (so pruning is rarely a scan)
-- An event whose offset is not above its partition's watermark was applied
-- before (a redelivery after a crash) and is skipped.
-- Returns {applied, {totals: n per horizon, horizons in order, as of d; then the same
--          as of d - 1}, {r1, v1, r2, v2, ...},
--          {label1, text1, ...}, {seq, state, pending, pending_since},
--          {i1, "mark1", i2, "mark2", ...}, existed} (false where absent); the sixth: each
--          counted event skipped as applied before (its index in "ev", 1-based, and the
--          watermark); existed: 1 if the hash existed before this call, else 0 (the
--          entity index adds a created entity once more, see streams/store/index.py).

local key = KEYS[1]
local a = cjson.decode(ARGV[1])
local existed = redis.call("EXISTS", key)
local n = a.n
local cap = a.cap

-- A saturating sum of two counters in [0, cap]: exact below cap (doubles are exact there).
local function add(x, y)
  local s = x + y
  if s > cap then return cap end
  return s
end

local function decode(s)
  local out = {}
  for i = 1, n do out[i] = 0 end
  if not s then return out end
  local i, pos, len = 1, 1, #s
  while pos <= len do
    local v, mul, b = 0, 1, 128
    while b >= 128 do
      b = string.byte(s, pos)
      pos = pos + 1
      v = v + (b % 128) * mul
      mul = mul * 128
    end
    out[i] = v
    i = i + 1
  end
  return out
end

local function encode(vals)
  local last = n
  while last > 0 and vals[last] == 0 do last = last - 1 end
  local parts = {}
  for i = 1, last do
    local v = vals[i]
    repeat
      local b = v % 128
      v = (v - b) / 128
      if v > 0 then b = b + 128 end
      parts[#parts + 1] = string.char(b)
    until v == 0
  end
  return table.concat(parts)
end

-- Is (ts, eid) later than the entry "<ts>|<event_id>|<value>"? ts as decimal strings.
local function newer(old, ts, eid)
  if not old then return true end
  local ots, oeid = string.match(old, "^(%d+)|([^|]*)|")
  local t, o = tonumber(ts), tonumber(ots)
  return t > o or (t == o and eid > oeid)
end

local function apply_event(ev)
  local day, counts, regs = ev[3], ev[4], ev[5]
  if day < a.keep then return end
  if #counts > 0 then
    local field = tostring(day)
    local vals = decode(redis.call("HGET", key, field))
    for j = 1, #counts, 2 do
      vals[counts[j]] = add(vals[counts[j]], counts[j + 1])
    end
    redis.call("HSET", key, field, encode(vals))
    local m = tonumber(redis.call("HGET", key, "m"))
    if not m or day < m then redis.call("HSET", key, "m", day) end
  end
  local labels = ev[6] or {}
  for j = 1, #labels, 4 do
    local field = "L" .. labels[j]
    if newer(redis.call("HGET", key, field), labels[j + 1], labels[j + 2]) then
      redis.call("HSET", key, field, labels[j + 1] .. "|" .. labels[j + 2] .. "|" .. labels[j + 3])
    end
  end
  for j = 1, #regs, 4 do
    local field = "r" .. regs[j]
    if day >= a.rkeep and newer(redis.call("HGET", key, field), regs[j + 1], regs[j + 2]) then
      local entry = regs[j + 1] .. "|" .. regs[j + 2] .. "|" .. regs[j + 3] .. "|" .. day
      redis.call("HSET", key, field, entry)
    end
  end
end

local function watermark(field)
  local mark = redis.call("HGET", key, field)
  local legacy = a.adopt and a.adopt[field]
  if not mark and legacy then
    mark = redis.call("HGET", key, legacy)
    if mark then
      redis.call("HSET", key, field, mark)
      redis.call("HDEL", key, legacy)
    end
  end
  return mark
end

local applied, skipped = 0, {}
for i, ev in ipairs(a.ev) do
  local mark = watermark(ev[1])
  if not mark or tonumber(ev[2]) > tonumber(mark) then
    if not ev[7] then
      apply_event(ev)
      applied = applied + 1
    end
    redis.call("HSET", key, ev[1], ev[2])
  elseif not ev[7] then
    skipped[#skipped + 1] = i
    skipped[#skipped + 1] = mark
  end
end

-- Prune what no window can see any more (rare: only when the oldest day ages out).
local all = redis.call("HGETALL", key)
local m = tonumber(redis.call("HGET", key, "m"))
if m and m < a.keep then
  local oldest = nil
  for i = 1, #all, 2 do
    local day = tonumber(all[i])
    if day then
      if day < a.keep then redis.call("HDEL", key, all[i])
      elseif not oldest or day < oldest then oldest = day end
    end
  end
  if oldest then redis.call("HSET", key, "m", oldest) else redis.call("HDEL", key, "m") end
end

-- Totals per horizon, and the latest register entries within the register window.
local totals, before, latest, texts = {}, {}, {}, {}
for h = 1, #a.hz do
  totals[h], before[h] = {}, {}
  for i = 1, n do totals[h][i], before[h][i] = 0, 0 end
end
for i = 1, #all, 2 do
  local field = all[i]
  local day = tonumber(field)
  if day and day <= a.asof then
    local vals = decode(all[i + 1])
    for h = 1, #a.hz do
      if day > a.asof - a.hz[h] then
        for c = 1, n do totals[h][c] = add(totals[h][c], vals[c]) end
      end
      if day < a.asof and day >= a.asof - a.hz[h] then
        for c = 1, n do before[h][c] = add(before[h][c], vals[c]) end
      end
    end
  elseif string.sub(field, 1, 1) == "L" then
    texts[#texts + 1] = string.sub(field, 2)
    texts[#texts + 1] = string.match(all[i + 1], "^%d+|[^|]*|(.*)$")
  elseif string.sub(field, 1, 1) == "r" then
    local r = string.sub(field, 2)
    local value, rday = string.match(all[i + 1], "|(%-?%d+)|(%d+)$")
    rday = tonumber(rday)
    if rday < a.rkeep then
      redis.call("HDEL", key, field)
    elseif rday <= a.asof then
      latest[r] = value
    end
  end
end
local flat, regs = {}, {}
for h = 1, #a.hz do
  for c = 1, n do flat[#flat + 1] = totals[h][c] end
end
for h = 1, #a.hz do
  for c = 1, n do flat[#flat + 1] = before[h][c] end
end
for r, value in pairs(latest) do
  regs[#regs + 1] = tonumber(r)
  regs[#regs + 1] = tonumber(value)
end
if a.ttl > 0 and #all > 0 then redis.call("PEXPIRE", key, a.ttl) end
local state = redis.call("HMGET", KEYS[2], "q", "s", "p", "pt")
return {applied, flat, regs, texts, state, skipped, existed}

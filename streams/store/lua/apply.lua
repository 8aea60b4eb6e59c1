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
--            topic ("o<S><p>"), taken over by wm_field when wm_field is absent,
--   "nr":    number of registers of this entity type ("r1".."r<nr>"),
--   "ln":    the text labels of this entity type, e.g. ["category"],
--   "cmin":  day rows in the windows from which a write keeps running sums ("c")
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
--   "m"            no day field is older: the smallest present, or a lower bound of it
--                  after rows were pruned by name (so pruning is rarely a scan)
--   "c", "c2".. "ck"  running sums: "<c>|<k>|" then n counters per horizon (horizons in
--                  order) as varints, cut into k pieces of at most 48 bytes (a field
--                  value over 64 bytes would turn the hash from a listpack into a
--                  hashtable, twice the memory): the rows of days (c - h, c - 1], every row a window as
--                  of c reads except c's own. With them a call as of c reads four rows
--                  (c, c - h for each h) instead of every row: totals as of c are
--                  sums + row c, as of c - 1 sums + row c - h. A row of a day before c
--                  that changes moves the sums by its change (counters only grow, and
--                  saturate at cap like the rows, so the sums stay exact). Kept by
--                  writes (ttl > 0) as of c. A call as of a day up to the shortest
--                  horizon after c moves them there (a write keeps them moved): the
--                  rows that enter a window are added, those that leave it subtracted,
--                  about 4 rows a day instead of every row. They are rebuilt from every
--                  row (one HGETALL) when a write's as-of day is further on or a sum
--                  is at cap, and only for entities with at least cmin rows (a small
--                  hash is cheaper to read whole than to keep sums of). A call as of
--                  a day before c, or too far after it, reads every row.
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
local hz = a.hz
local H = #hz
local asof = a.asof
local longest = hz[H]

-- A saturating sum of two counters in [0, cap]: exact below cap (doubles are exact there).
local function add(x, y)
  local s = x + y
  if s > cap then return cap end
  return s
end

-- Unsigned LEB128 varints into count values (absent ones 0). The bytes are taken out in
-- one call: a string.byte call per byte cost twice as much.
local byte, char = string.byte, string.char
local function decode_n(s, count)
  local out = {}
  if not s then
    for i = 1, count do out[i] = 0 end
    return out
  end
  local bytes = {byte(s, 1, -1)}
  local i, pos, len = 1, 1, #bytes
  while pos <= len and i <= count do
    local b = bytes[pos]
    pos = pos + 1
    if b < 128 then
      out[i] = b
    else
      local v, mul = b - 128, 128
      b = bytes[pos]
      pos = pos + 1
      while b >= 128 do
        v = v + (b - 128) * mul
        mul = mul * 128
        b = bytes[pos]
        pos = pos + 1
      end
      out[i] = v + b * mul
    end
    i = i + 1
  end
  for j = i, count do out[j] = 0 end
  return out
end

local function decode(s) return decode_n(s, n) end

local function encode(vals, count)
  local last = count
  while last > 0 and vals[last] == 0 do last = last - 1 end
  local out, k = {}, 0
  for i = 1, last do
    local v = vals[i]
    while v >= 128 do
      local b = v % 128
      k = k + 1
      out[k] = b + 128
      v = (v - b) / 128
    end
    k = k + 1
    out[k] = v
  end
  return char(unpack(out))
end

-- Is a after b in byte order (Python's order of the ids)? Lua's ">" on strings
-- follows the server's LC_COLLATE locale (strcoll), which need not be bytewise.
local function bytes_after(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end

-- Is (ts, eid) later than the entry "<ts>|<event_id>|<value>"? ts as decimal strings.
local function newer(old, ts, eid)
  if not old then return true end
  local ots, oeid = string.match(old, "^(%d+)|([^|]*)|")
  local t, o = tonumber(ts), tonumber(ots)
  return t > o or (t == o and bytes_after(eid, oeid))
end

-- Fields read once and written once at the end (a batch touches a row many times).
local cache, dirty = {}, {}
local function get(field)
  local v = cache[field]
  if v == nil then
    v = redis.call("HGET", key, field) or false
    cache[field] = v
  end
  return v or nil
end
local function put(field, value)
  cache[field] = value
  dirty[field] = true
end

-- Day rows: decoded once; "before" keeps each row as it was, for the sums' change.
local rows, before = {}, {}
local function row(day)
  local r = rows[day]
  if not r then
    r = decode(get(tostring(day)))
    rows[day] = r
    local copy = {}
    for i = 1, n do copy[i] = r[i] end
    before[day] = copy
  end
  return r
end

-- The running sums, if kept and as of asof: {h -> {counter -> sum}}; else nil.
local sums = nil
local sums_day = nil
local sums_pieces = 0
do
  local c = redis.call("HGET", key, "c")
  if c then
    local d, k, at = string.match(c, "^(%d+)|(%d+)|()")
    sums_day, sums_pieces = tonumber(d), tonumber(k)
    local text = string.sub(c, at)
    if sums_pieces > 1 then
      local names = {}
      for i = 2, sums_pieces do names[#names + 1] = "c" .. i end
      text = text .. table.concat(redis.call("HMGET", key, unpack(names)))
    end
    local flat = decode_n(text, n * H)
    sums = {}
    for h = 1, H do
      sums[h] = {}
      for i = 1, n do sums[h][i] = flat[(h - 1) * n + i] end
    end
  end
end

local function apply_event(ev)
  local day, counts, regs = ev[3], ev[4], ev[5]
  if day < a.keep then return end
  if #counts > 0 then
    local vals = row(day)
    for j = 1, #counts, 2 do
      vals[counts[j]] = add(vals[counts[j]], counts[j + 1])
    end
    local m = tonumber(get("m"))
    if not m or day < m then put("m", tostring(day)) end
  end
  local labels = ev[6] or {}
  for j = 1, #labels, 4 do
    local field = "L" .. labels[j]
    if newer(get(field), labels[j + 1], labels[j + 2]) then
      put(field, labels[j + 1] .. "|" .. labels[j + 2] .. "|" .. labels[j + 3])
    end
  end
  for j = 1, #regs, 4 do
    local field = "r" .. regs[j]
    if day >= a.rkeep and newer(get(field), regs[j + 1], regs[j + 2]) then
      put(field, regs[j + 1] .. "|" .. regs[j + 2] .. "|" .. regs[j + 3] .. "|" .. day)
    end
  end
end

local function watermark(field)
  local mark = get(field)
  local legacy = a.adopt and a.adopt[field]
  if not mark and legacy then
    mark = get(legacy)
    if mark then
      put(field, mark)
      redis.call("HDEL", key, legacy)
      cache[legacy] = false
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
    put(ev[1], ev[2])
  elseif not ev[7] then
    skipped[#skipped + 1] = i
    skipped[#skipped + 1] = mark
  end
end

-- Write what changed: rows, and the sums' share of rows before their day.
local flatw = {}
local sums_moved = false
for day, vals in pairs(rows) do
  local changed = false
  for i = 1, n do
    if vals[i] ~= before[day][i] then changed = true end
  end
  if changed then
    put(tostring(day), encode(vals, n))
    if sums and day < sums_day then
      sums_moved = true
      for h = 1, H do
        if day > sums_day - hz[h] then
          for i = 1, n do sums[h][i] = add(sums[h][i], vals[i] - before[day][i]) end
        end
      end
    end
  end
end
for field in pairs(dirty) do
  flatw[#flatw + 1] = field
  flatw[#flatw + 1] = cache[field]
end
if #flatw > 0 then redis.call("HSET", key, unpack(flatw)) end

local PIECE = 48
-- Write the sums as of day d in pieces (dropping pieces an older, longer text left).
local function write_sums(s, d)
  local flat = {}
  for h = 1, H do
    for i = 1, n do flat[#flat + 1] = s[h][i] end
  end
  local text = encode(flat, n * H)
  local k = math.max(1, math.ceil(#text / PIECE))
  local fields = {"c", tostring(d) .. "|" .. k .. "|" .. string.sub(text, 1, PIECE)}
  for i = 2, k do
    fields[#fields + 1] = "c" .. i
    fields[#fields + 1] = string.sub(text, (i - 1) * PIECE + 1, i * PIECE)
  end
  redis.call("HSET", key, unpack(fields))
  for i = k + 1, sums_pieces do redis.call("HDEL", key, "c" .. i) end
  sums_pieces = k
end

local function drop_sums()
  redis.call("HDEL", key, "c")
  for i = 2, sums_pieces do redis.call("HDEL", key, "c" .. i) end
  sums_pieces = 0
end

-- The reply's totals: n per horizon (horizons in order) as of asof, then the same as of
-- asof - 1; flat[(h - 1) * n + c] and flat[(H + h - 1) * n + c].
local flat = {}
local writing = a.ttl > 0
local m = tonumber(get("m"))
local stale = m and m < a.keep  -- day rows no window can see any more, to delete
local PRUNE_MAX = 16  -- up to this many days are deleted by name, without reading every row

-- Is a sum at cap? Then it may be less than its rows' true sum, and nothing can be
-- subtracted from it exactly.
local function saturated()
  for h = 1, H do
    for c = 1, n do
      if sums[h][c] >= cap then return true end
    end
  end
  return false
end

-- The sums serve a call as of their own day, and one as of a day up to the shortest
-- horizon later (moved there below); a write that has more than PRUNE_MAX days to
-- prune reads every row instead.
local use_sums = sums and asof >= sums_day and asof - sums_day <= hz[1]
  and not (writing and stale and a.keep - m > PRUNE_MAX)
  and (asof == sums_day or not saturated())
if not use_sums then
  -- Every row: prune what no window can see any more, sum the windows, and (a write)
  -- keep sums as of asof for the calls after this one.
  local all = redis.call("HGETALL", key)
  local oldest, count = nil, 0
  -- Each row is added once, to the band of the shortest horizon whose window holds it
  -- (the windows are nested), and a window's total is the sum of its bands. Rows are
  -- in [0, cap] and a window holds at most 91 of them, so plain additions are exact
  -- while below cap (doubles are exact up to 2^53) and never fall back below it after:
  -- the total clamped at cap is what saturating every addition gives.
  local tband, pband, today = {}, {}, nil
  for h = 1, H do
    tband[h], pband[h] = {}, {}
    for c = 1, n do tband[h][c], pband[h][c] = 0, 0 end
  end
  for i = 1, #all, 2 do
    local day = tonumber(all[i])
    if day then
      if day < a.keep then
        redis.call("HDEL", key, all[i])
      else
        if not oldest or day < oldest then oldest = day end
        if day <= asof then
          count = count + 1
          local vals = decode(all[i + 1])
          local age = asof - day
          if age == 0 then
            today = vals
          else
            for h = 1, H do  -- as of asof: days (asof - hz[h], asof]
              if age < hz[h] then
                local b = tband[h]
                for c = 1, n do b[c] = b[c] + vals[c] end
                break
              end
            end
            for h = 1, H do  -- as of asof - 1: days (asof - 1 - hz[h], asof - 1]
              if age <= hz[h] then
                local b = pband[h]
                for c = 1, n do b[c] = b[c] + vals[c] end
                break
              end
            end
          end
        end
      end
    end
  end
  local fresh = {}  -- the running sums as of asof: every row of a window but asof's own
  local run_t, run_p = {}, {}
  for c = 1, n do run_t[c], run_p[c] = 0, 0 end
  for h = 1, H do
    fresh[h] = {}
    for c = 1, n do
      run_t[c] = run_t[c] + tband[h][c]
      run_p[c] = run_p[c] + pband[h][c]
      fresh[h][c] = math.min(run_t[c], cap)
      flat[(h - 1) * n + c] = math.min(run_t[c] + (today and today[c] or 0), cap)
      flat[(H + h - 1) * n + c] = math.min(run_p[c], cap)
    end
  end
  if m and m < a.keep then
    if oldest then redis.call("HSET", key, "m", oldest) else redis.call("HDEL", key, "m") end
  end
  if writing and (not sums_day or asof >= sums_day) then
    if count >= a.cmin then
      write_sums(fresh, asof)
    elseif sums then
      drop_sums()
    end
  elseif sums_moved then  -- a write as of a day before the sums': they still hold
    write_sums(sums, sums_day)
  end
else
  local advanced = false
  if asof > sums_day then
    -- Move the sums from their day c to asof, k = asof - c days later (k <= every
    -- horizon): each window (c - h, c - 1] becomes (asof - h, asof - 1], so the rows of
    -- days c .. asof - 1 enter it and those of (c - h, asof - h] leave it, all of which
    -- it held. No sum is at cap (use_sums), so each is its rows' exact sum, and a row
    -- that leaves is subtracted exactly; the rows that enter are added saturating, as
    -- everywhere. Rows are read as they are now, after this call's events.
    local c0 = sums_day
    local list, seen = {}, {}
    local function want(d)
      if not rows[d] and not seen[d] then
        seen[d] = true
        list[#list + 1] = d
      end
    end
    for d = c0, asof - 1 do want(d) end
    for h = 1, H do
      for d = c0 - hz[h] + 1, asof - hz[h] do want(d) end
    end
    if #list > 0 then
      local names = {}
      for j, d in ipairs(list) do names[j] = tostring(d) end
      local got = redis.call("HMGET", key, unpack(names))
      for j, d in ipairs(list) do rows[d] = decode(got[j]) end
    end
    for h = 1, H do
      local s = sums[h]
      for d = c0 - hz[h] + 1, asof - hz[h] do
        local r = rows[d]
        for c = 1, n do s[c] = s[c] - r[c] end
      end
      for d = c0, asof - 1 do
        local r = rows[d]
        for c = 1, n do s[c] = add(s[c], r[c]) end
      end
    end
    sums_day = asof
    advanced = true
  end
  if writing and stale then
    -- Delete the rows before keep by name (at most PRUNE_MAX); "m" becomes keep, a
    -- lower bound of the days left (no row is older), not necessarily one of them.
    local names = {}
    for d = m, a.keep - 1 do names[#names + 1] = tostring(d) end
    redis.call("HDEL", key, unpack(names))
    redis.call("HSET", key, "m", tostring(a.keep))
  end
  -- Four rows and the sums.
  local need = {asof}
  for h = 1, H do need[#need + 1] = asof - hz[h] end
  local got = {}
  for j, day in ipairs(need) do
    got[j] = rows[day] or decode(get(tostring(day)))
  end
  local t = got[1]
  for h = 1, H do
    local s, p, base, pbase = sums[h], got[h + 1], (h - 1) * n, (H + h - 1) * n
    for c = 1, n do
      local x, y = s[c] + t[c], s[c] + p[c]  -- add(), inline: called 96 times a shop
      flat[base + c] = x > cap and cap or x
      flat[pbase + c] = y > cap and cap or y
    end
  end
  if sums_moved or (advanced and writing) then write_sums(sums, sums_day) end
end

-- The latest register entries within the register window, and the labels.
local latest, texts = {}, {}
for r = 1, (a.nr or 0) do
  local field = "r" .. r
  local entry = get(field)
  if entry then
    local value, rday = string.match(entry, "|(%-?%d+)|(%d+)$")
    rday = tonumber(rday)
    if rday < a.rkeep then
      redis.call("HDEL", key, field)
    elseif rday <= asof then
      latest[#latest + 1] = r
      latest[#latest + 1] = tonumber(value)
    end
  end
end
for _, name in ipairs(a.ln or {}) do
  local entry = get("L" .. name)
  if entry then
    texts[#texts + 1] = name
    texts[#texts + 1] = string.match(entry, "^%d+|[^|]*|(.*)$")
  end
end
if a.ttl > 0 then redis.call("PEXPIRE", key, a.ttl) end  -- 0, and nothing, if none
local state = redis.call("HMGET", KEYS[2], "q", "s", "p", "pt")
return {applied, flat, latest, texts, state, skipped, existed}

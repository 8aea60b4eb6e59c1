-- Upstream-duplicate markers of one tag (one hash slot): look up and set, one call per batch.
--
-- KEYS[1]  the tag's slice table, e.g. vane:{dd:7}:m; the marker hashes share its hash
--          tag (vane:{dd:7}:<slice>:<sub>), so they live in the same slot
-- ARGV[1]  the marker keys' base, e.g. vane:{dd:7}
-- ARGV[2]  the dedupe horizon, ms
-- ARGV[3]  the events, in batch order, 18 bytes each: 4 bytes choosing the sub-bucket
--          (big-endian), a 6-byte fingerprint of the event_id, a 24-bit digest of the
--          event's position (stream, partition, offset) as 8 decimal digits
-- Returns one character per event: "0" first sighting (its marker is set now), "1" the
-- marker holds this position (a redelivery), "2" it holds another (an upstream duplicate).
--
-- Markers go into the current slice, spread over `sub` small hashes of about TARGET
-- markers each, so that Valkey keeps them as listpacks (~13 bytes a marker: the 6-byte
-- fingerprint as field, the digest as value, which a listpack keeps as a 3-byte
-- integer). A slice closes after horizon / SLICES of Redis TIME (the next one sized from its count, at least FIRST hashes), or
-- early once it holds sub * TARGET markers (the next one GROWTH times wider: traffic
-- grew; few slices to look up while a new deployment ramps up). A closed slice is
-- looked up until one horizon after it closed, so a marker holds at least the horizon
-- and at most horizon * (1 + 1 / SLICES). Slice table fields: "c" the current slice id,
-- "<id>" = "<sub>|<opened ms>|<closed ms or empty>", "<id>:n" its marker count.

local SLICES, TARGET, FIRST, GROWTH = 4, 120, 64, 4
local meta, base = KEYS[1], ARGV[1]
local horizon = tonumber(ARGV[2])
local recs = ARGV[3]
local width = math.max(1, math.floor(horizon / SLICES))
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local flat = redis.call("HGETALL", meta)
local info, counts, cur = {}, {}, nil
for i = 1, #flat, 2 do
  local f, v = flat[i], flat[i + 1]
  if f == "c" then
    cur = tonumber(v)
  elseif string.sub(f, -2) == ":n" then
    counts[tonumber(string.sub(f, 1, -3))] = tonumber(v)
  else
    local sub, opened, closed = string.match(v, "^(%d+)|(%d+)|(%d*)$")
    info[tonumber(f)] = {tonumber(sub), tonumber(opened), tonumber(closed)}
  end
end

local function open(id, sub)
  info[id] = {sub, now, nil}
  counts[id] = 0
  redis.call("HSET", meta, "c", id, id, sub .. "|" .. now .. "|")
  return id
end

local function close(id)
  local s = info[id]
  s[3] = now
  redis.call("HSET", meta, id, s[1] .. "|" .. s[2] .. "|" .. now)
end

-- the current slice: open the first, or the next when this one is old or full
if not cur or not info[cur] then
  cur = open((cur or 0) + 1, FIRST)
elseif now >= info[cur][2] + width then
  local n = counts[cur] or 0
  close(cur)
  local sub = FIRST
  while sub * TARGET < n do sub = sub * 2 end
  cur = open(cur + 1, sub)
end

-- the slices still looked up, newest first; the others are forgotten
local live = {}
for id, s in pairs(info) do
  if s[3] == nil or now <= s[3] + horizon then
    live[#live + 1] = id
  else
    redis.call("HDEL", meta, id, id .. ":n")
  end
end
table.sort(live, function(x, y) return x > y end)

local out, touched = {}, {}
local ttl = horizon + 1  -- from the last write: at least the horizon after any first sighting
local added = 0
for pos = 1, #recs, 18 do
  local b1, b2, b3, b4 = string.byte(recs, pos, pos + 3)
  local h = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  local fp = string.sub(recs, pos + 4, pos + 9)
  local digest = tostring(tonumber(string.sub(recs, pos + 10, pos + 17)))  -- no leading 0s
  local status = "0"
  for _, id in ipairs(live) do
    local held = redis.call("HGET", base .. ":" .. id .. ":" .. (h % info[id][1]), fp)
    if held then
      status = held == digest and "1" or "2"
      break
    end
  end
  if status == "0" then
    local sub = info[cur][1]
    if (counts[cur] or 0) + added >= sub * TARGET then  -- full: a GROWTH times wider slice
      redis.call("HINCRBY", meta, cur .. ":n", added)
      counts[cur], added = (counts[cur] or 0) + added, 0
      close(cur)
      sub = sub * GROWTH
      cur = open(cur + 1, sub)
      table.insert(live, 1, cur)
    end
    local key = base .. ":" .. cur .. ":" .. (h % sub)
    redis.call("HSET", key, fp, digest)
    if not touched[key] then
      touched[key] = true
      redis.call("PEXPIRE", key, ttl)
    end
    added = added + 1
  end
  out[#out + 1] = status
end

if added > 0 then redis.call("HINCRBY", meta, cur .. ":n", added) end
redis.call("PEXPIRE", meta, ttl + horizon)
return table.concat(out)

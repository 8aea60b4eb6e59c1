-- Take one shard of the entity index for a sweep, unless a sweep covered it already.
-- KEYS[1]  the shard's lease, e.g. vane:{entities:7}:lease
-- KEYS[2]  the shard's sweep record, e.g. vane:{entities:7}:swept ("<day>|<request>")
-- KEYS[3]  the shard's member set, e.g. vane:{entities:7}
-- ARGV[1]  our owner id;  ARGV[2]  lease time-to-live, ms
-- ARGV[3]  the as-of day to sweep;  ARGV[4]  the sweep request to answer
-- Returns 2 if covered (an empty shard is recorded as covered at once), 1 if the
-- lease is ours now (taken or held), 0 if another sweeper holds it.
local day, request = tonumber(ARGV[3]), tonumber(ARGV[4])
local old = redis.call("GET", KEYS[2])
if old then
  local d, r = string.match(old, "^(%d+)|(%d+)$")
  d, r = tonumber(d), tonumber(r)
  if d > day or (d == day and r >= request) then return 2 end
end
local holder = redis.call("GET", KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
if not holder and redis.call("SCARD", KEYS[3]) == 0 then
  redis.call("SET", KEYS[2], ARGV[3] .. "|" .. ARGV[4])
  return 2
end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1

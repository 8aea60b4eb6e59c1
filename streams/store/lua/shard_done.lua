-- Record that a sweep covered one shard of the entity index, and release its lease,
-- if we still hold it.
-- KEYS[1]  the shard's lease, e.g. vane:{entities:7}:lease
-- KEYS[2]  the shard's sweep record, e.g. vane:{entities:7}:swept ("<day>|<request>")
-- ARGV[1]  our owner id;  ARGV[2]  the as-of day swept;  ARGV[3]  the request answered
-- Returns 1 if recorded (values only ever move forward), 0 if the lease is not ours.
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
redis.call("DEL", KEYS[1])
local old = redis.call("GET", KEYS[2])
local day, request = tonumber(ARGV[2]), tonumber(ARGV[3])
if old then
  local d, r = string.match(old, "^(%d+)|(%d+)$")
  d, r = tonumber(d), tonumber(r)
  if d > day or (d == day and r >= request) then return 1 end
end
redis.call("SET", KEYS[2], ARGV[2] .. "|" .. ARGV[3])
return 1

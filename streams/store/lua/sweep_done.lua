-- Record a finished day-close sweep (values only ever move forward).
-- KEYS[1]  the clock hash
-- ARGV[1]  the as-of day swept;  ARGV[2]  the sweep request number it answered
local d = tonumber(redis.call("HGET", KEYS[1], "d") or "-1")
if tonumber(ARGV[1]) > d then redis.call("HSET", KEYS[1], "d", ARGV[1]) end
local h = tonumber(redis.call("HGET", KEYS[1], "h") or "0")
if tonumber(ARGV[2]) > h then redis.call("HSET", KEYS[1], "h", ARGV[2]) end
return 1

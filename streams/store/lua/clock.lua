-- Advance the deployment's stream time (the largest event ts processed so far).
-- KEYS[1]  the clock hash, e.g. vane:{clock}
-- ARGV[1]  a candidate stream time, epoch ms as a decimal string ("" to only read)
-- Returns the stream time after the call, as a string (false if never set).
local cur = redis.call("HGET", KEYS[1], "t")
if ARGV[1] ~= "" and (not cur or tonumber(ARGV[1]) > tonumber(cur)) then
  redis.call("HSET", KEYS[1], "t", ARGV[1])
  return ARGV[1]
end
return cur

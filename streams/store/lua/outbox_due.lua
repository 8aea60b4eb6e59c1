-- List, then settle, the index entries that are due (this server's TIME).
-- KEYS[1]  the shard's index
-- ARGV[1]  "list": ARGV[2] the most members to return; returns {member, score, ...}
-- ARGV[1]  "settle": ARGV[2..] triples (member, score listed, delay ms): delay "-1"
--          removes the member if its score is still the listed one (nobody re-added
--          it meanwhile); otherwise its score moves to now + delay (only later).
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] == "list" then
  return redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now, "WITHSCORES", "LIMIT", 0, ARGV[2])
end
for i = 2, #ARGV, 3 do
  local member, listed, delay = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if delay < 0 then
    if redis.call("ZSCORE", KEYS[1], member) == listed then
      redis.call("ZREM", KEYS[1], member)
    end
  else
    redis.call("ZADD", KEYS[1], "GT", now + delay, member)
  end
end
return 1

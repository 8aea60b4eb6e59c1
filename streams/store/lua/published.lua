-- Mark an entity's outbox message as published (only if it is still that seq's).
-- KEYS[1]  the entity's state hash;  ARGV[1]  the seq that was published
if redis.call("HGET", KEYS[1], "q") == ARGV[1] then
  redis.call("HDEL", KEYS[1], "p", "pt")
  return 1
end
return 0

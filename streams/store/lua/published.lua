-- After an acknowledged send: mark the outbox entry published, and say whether the
-- send was stale (one call per entity, pipelined: one round trip per batch).
-- KEYS[1]  the entity's state hash
-- ARGV[1]  the seq that was sent;  ARGV[2]  the sender's owner token
-- The entry is cleared only if it is still that seq's and the sender still owns it
-- (an entry taken over by another worker is that worker's to clear; an entry written
-- before owner tokens existed has none).
-- Returns {cleared (1/0), current seq, the current committed message if its seq is
-- higher than the one sent (else false)}: the sender then re-sends that message, so
-- that whatever stale copy just landed is followed by the current state.
-- include: message
local q = tonumber(redis.call("HGET", KEYS[1], "q") or "0")
local sent = tonumber(ARGV[1])
local cleared = 0
if q == sent and redis.call("HEXISTS", KEYS[1], "p") == 1 then
  local w = redis.call("HGET", KEYS[1], "w")
  if not w or w == ARGV[2] then
    redis.call("HDEL", KEYS[1], "p", "pt", "w")
    cleared = 1
  end
end
local current = false
if q > sent then
  current = message()
end
return {cleared, q, current}

-- Take over an outbox entry whose writer seems dead, or run a due re-check.
-- KEYS[1]  the entity's state hash
-- ARGV[1]  the claiming worker's owner token
-- ARGV[2]  the takeover age, ms;  ARGV[3]  the re-check delay after a takeover, ms
-- Ages are this server's TIME: one clock, whatever the workers' clocks say.
-- Returns one of
--   {"take", seq, message}     the entry was older than the takeover age: it is ours
--                              now ("w"), its age restarts, a re-check is scheduled
--                              ("rc": the old owner may still land a stale copy);
--   {"recheck", seq, message}  no entry, a re-check was due: re-send the current
--                              committed message (a stale copy may have landed last);
--   {"wait", ms}               an entry or a re-check is not due yet: ask again in ms;
--   {"done"}                   nothing to do.
-- include: message
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local q = redis.call("HGET", KEYS[1], "q") or "0"
local p = redis.call("HGET", KEYS[1], "p")
local rc = tonumber(redis.call("HGET", KEYS[1], "rc") or "0")
if p then
  local age = now - tonumber(redis.call("HGET", KEYS[1], "pt") or "0")
  if age < tonumber(ARGV[2]) then return {"wait", tonumber(ARGV[2]) - age} end
  redis.call("HSET", KEYS[1], "w", ARGV[1], "pt", now, "rc", now + tonumber(ARGV[3]))
  return {"take", q, message()}
end
if rc == 0 then return {"done"} end
if now < rc then return {"wait", rc - now} end
redis.call("HDEL", KEYS[1], "rc")
return {"recheck", q, message()}

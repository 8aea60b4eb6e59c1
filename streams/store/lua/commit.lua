-- Commit an entity's next published state and its message (the outbox), atomically.
--
-- KEYS[1]  the entity's state hash, e.g. vane:{shop:s1}:st
-- ARGV[1]  the seq the decision was based on (0 if never published)
-- ARGV[2]  the new state (JSON)
-- ARGV[3]  the message to publish (bytes)
-- ARGV[4]  the committing worker's owner token
-- Fields: "q" seq of the last committed message, "s" its state, "c" its message (kept:
-- a publisher that finds its send stale re-sends it), "p" the message not yet marked
-- published, "pt" when it was written or last taken over (this server's TIME, ms: one
-- clock for every worker), "w" the owner token of the outbox entry, "rc" when a
-- re-check of the key is due after a takeover (claim.lua).
-- Returns the new seq; 0 if the seq moved (someone committed first: decide again);
-- -1 if a message is still waiting to be published (retry after it is).
local q = tonumber(redis.call("HGET", KEYS[1], "q") or "0")
if q ~= tonumber(ARGV[1]) then return 0 end
if redis.call("HEXISTS", KEYS[1], "p") == 1 then return -1 end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call("HSET", KEYS[1], "q", q + 1, "s", ARGV[2], "c", ARGV[3], "p", ARGV[3],
  "pt", now, "w", ARGV[4])
return q + 1

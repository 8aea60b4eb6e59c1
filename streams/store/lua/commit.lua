-- Commit an entity's next published state and its message (the outbox), atomically.
--
-- KEYS[1]  the entity's state hash, e.g. vane:{shop:s1}:st
-- ARGV[1]  the seq the decision was based on (0 if never published)
-- ARGV[2]  the new state (streams.store.encoding.state_text)
-- ARGV[3]  the committing worker's owner token
-- ARGV[4..] the message to publish, packed: its pieces (streams.store.messages)
-- Fields: "q" seq of the last committed message, "s" its state, "m", "m2".. its
-- message (kept: a publisher that finds its send stale re-sends it), "p" set while
-- the message is not yet marked published, "pt" when it was written or last taken
-- over (this server's TIME, ms: one clock for every worker), "w" the owner token of
-- the outbox entry, "rc" when a re-check of the key is due after a takeover
-- (claim.lua). Every value fits a listpack entry (docs/performance.md).
-- A hash an older Vane wrote keeps its message as plain JSON in "c" (and a pending
-- one in "p"): the first commit here rewrites it without them, so it is a listpack
-- again (Redis never turns a hashtable back by itself).
-- Returns the new seq; 0 if the seq moved (someone committed first: decide again);
-- -1 if a message is still waiting to be published (retry after it is).
local q = tonumber(redis.call("HGET", KEYS[1], "q") or "0")
if q ~= tonumber(ARGV[1]) then return 0 end
if redis.call("HEXISTS", KEYS[1], "p") == 1 then return -1 end
if redis.call("HEXISTS", KEYS[1], "c") == 1 then
  local rc = redis.call("HGET", KEYS[1], "rc")
  redis.call("DEL", KEYS[1])
  if rc then redis.call("HSET", KEYS[1], "rc", rc) end
end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fields = {"q", q + 1, "s", ARGV[2], "p", 1, "pt", now, "w", ARGV[3], "m", ARGV[4]}
local pieces = #ARGV - 3
for i = 2, pieces do
  fields[#fields + 1] = "m" .. i
  fields[#fields + 1] = ARGV[i + 3]
end
redis.call("HSET", KEYS[1], unpack(fields))
local MAX_PIECES = 8  -- streams.store.messages.MAX_PIECES
if pieces < MAX_PIECES then
  local older = {}
  for i = pieces + 1, MAX_PIECES do older[#older + 1] = "m" .. i end
  redis.call("HDEL", KEYS[1], unpack(older))
end
return q + 1

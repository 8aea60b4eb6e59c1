-- Index entities whose outbox needs a look later (one sorted set per shard).
-- KEYS[1]  the shard's index, e.g. vane:{outbox:3}
-- ARGV[1]  delay, ms, after this server's TIME;  ARGV[2..]  members "<type>:<id>"
-- A member's score is when to look (epoch ms); it only moves later (GT), so a
-- conditional removal (outbox_due.lua) never drops an entry added meanwhile.
local t = redis.call("TIME")
local due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call("ZADD", KEYS[1], "GT", due, ARGV[i])  -- GT still adds a new member
end
return due

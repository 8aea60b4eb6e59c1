-- Renew (ARGV[2] > 0: new time-to-live, ms) or release (ARGV[2] = 0) a lease we hold.
-- KEYS[1]  the lease key;  ARGV[1]  our owner id
-- Returns 1 if we held it, 0 if someone else does (or nobody).
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
else
  redis.call("DEL", KEYS[1])
end
return 1

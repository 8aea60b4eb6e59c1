-- (included, not a script of its own: connection.script_text)
-- The committed message of the state hash KEYS[1], packed (streams.store.messages:
-- pieces "m", "m2".. "m8"), or an older Vane's plain JSON ("c", or "p" before "c").
local function message()
  local parts = redis.call("HMGET", KEYS[1], "m", "m2", "m3", "m4", "m5", "m6", "m7", "m8")
  local found = {}
  for i = 1, #parts do
    if not parts[i] then break end
    found[i] = parts[i]
  end
  if #found > 0 then return table.concat(found) end
  return redis.call("HGET", KEYS[1], "c") or redis.call("HGET", KEYS[1], "p") or false
end

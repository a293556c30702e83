-- Claims an incoming delivery in one round trip (SPEC §2.1 replay, §2.2 de-duplication).
-- KEYS[1] de-dup key (hash of method, URL and body)   KEYS[2] nonce key   KEYS[3] event index (zset)
-- ARGV[1] new event id   ARGV[2] delivery hash   ARGV[3] now (ms)   ARGV[4] de-dup/nonce ttl (s)
-- ARGV[5] retention of traces (ms)   ARGV[6] in-progress window (ms)   ARGV[7] trace key prefix
-- ARGV[8] job key prefix   ARGV[9] "1" when the request carried a verified nonce   ARGV[10..] trace fields
-- Returns {"replayed"} | {"duplicate", id} | {"in_progress", id} | {"claimed", id}.
-- A claim whose job was never added (Redis failed in between) is taken over, with the same id, by the next
-- identical delivery once the in-progress window has passed; a job or a trace past "received" proves the
-- first delivery was stored.
local hasNonce = ARGV[9] == "1"
if hasNonce then
  local seen = redis.call("GET", KEYS[2])
  if seen and seen ~= ARGV[2] then return {"replayed"} end
end
local remember = function()
  if hasNonce then redis.call("SET", KEYS[2], ARGV[2], "EX", ARGV[4], "NX") end
end
local existing = redis.call("GET", KEYS[1])
if existing then
  local sep = string.find(existing, "|", 1, true)
  local id = string.sub(existing, 1, sep - 1)
  local since = tonumber(string.sub(existing, sep + 1))
  local state = redis.call("HGET", ARGV[7] .. id, "state")
  remember()
  if redis.call("EXISTS", ARGV[8] .. id) == 1 or (state and state ~= "received") then
    return {"duplicate", id}
  end
  if tonumber(ARGV[3]) - since < tonumber(ARGV[6]) then return {"in_progress", id} end
  redis.call("SET", KEYS[1], id .. "|" .. ARGV[3], "KEEPTTL")
  return {"claimed", id}
end
redis.call("SET", KEYS[1], ARGV[1] .. "|" .. ARGV[3], "EX", ARGV[4])
remember()
local traceKey = ARGV[7] .. ARGV[1]
redis.call("HSET", traceKey, unpack(ARGV, 10))
redis.call("PEXPIRE", traceKey, ARGV[5])
redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1])
redis.call("ZREMRANGEBYSCORE", KEYS[3], "-inf", tonumber(ARGV[3]) - tonumber(ARGV[5]))
return {"claimed", ARGV[1]}

-- Claims an incoming delivery and stores its job in one round trip (SPEC §2.1 replay, §2.2
-- de-duplication and durability). Scripts run in isolation but keep the writes made before an error, so
-- the job (or the action jobs) is written first and the de-duplication record last: if anything fails,
-- the caller answers 503, the sender retries, and the retry is stored (at worst a second time). Never a
-- lost event.
-- KEYS[1] de-dup key (hash of method, URL and body)   KEYS[2] nonce key
-- KEYS[3] event index (zset by receive time; trimmed to the retention by trimEventIndex, not here)
-- KEYS[4] the new event's trace   KEYS[5..10] bull's addJob keys of the events queue
-- KEYS[11..16] bull's addJob keys of the actions queue
-- ARGV[1] new event id   ARGV[2] delivery hash   ARGV[3] now (ms)   ARGV[4] de-dup/nonce ttl (s)
-- ARGV[5] retention of traces (ms)   ARGV[6] "1" when the request carried a verified nonce
-- ARGV[7] job data (JSON)   ARGV[8] job opts (JSON)   ARGV[9] event type   ARGV[10] request id
-- ARGV[11] the event as the trace keeps it when it differs from the job data (secrets redacted), or ""
-- ARGV[12] the /answer reply's outcome for the trace (JSON), or ""
-- ARGV[13], when given: the event was decided in the request path. ARGV[13] = F, the number of trace
-- fields recording the decision, ARGV[14 .. 13+2F] their name, value pairs; then K, the number of action
-- jobs this process takes at once (server/workers/inline-delivery.ts), the lock token, the lock duration
-- (ms) and the prefix of the actions queue's job keys; then three arguments per action job (id, its data
-- JSON less the event, opts JSON): the event (ARGV[7]) is spliced in as the data's first key. The action
-- jobs are added instead of the event job (ARGV[8] is then ""); the first K are taken as bull's
-- moveToActive takes a job for a worker: into the active list (KEYS[17]), locked with the token.
-- Returns {"replayed"} | {"duplicate", first id} | {"stored", id, taken} where taken has a "1" for each
-- of the first K jobs that was taken ("0" if it could not be: a paused queue).
-- KEYS[17] the actions queue's active list

-- @bull-add-job

local hasNonce = ARGV[6] == "1"
if hasNonce then
  local seen = redis.call("GET", KEYS[2])
  if seen and seen ~= ARGV[2] then return {"replayed"} end
end
local existing = redis.call("GET", KEYS[1])
if existing then
  if hasNonce then redis.call("SET", KEYS[2], ARGV[2], "EX", ARGV[4], "NX") end
  return {"duplicate", existing}
end

local decided = ARGV[13] ~= nil
local taken = ""
if decided then
  local f = tonumber(ARGV[13])
  local inline = tonumber(ARGV[14 + 2 * f])
  local token, lockMs, jobPrefix = ARGV[15 + 2 * f], ARGV[16 + 2 * f], ARGV[17 + 2 * f]
  local i = 18 + 2 * f
  while i <= #ARGV do
    local jobId = ARGV[i]
    local data = '{"event":' .. ARGV[7] .. ',' .. string.sub(ARGV[i + 1], 2)
    bullAddAction({KEYS[11], KEYS[12], KEYS[13], KEYS[14], KEYS[15], KEYS[16]}, jobId, data, ARGV[i + 2], ARGV[3])
    if #taken < inline then
      -- just pushed at the head of the wait list, unless the queue is paused
      if redis.call("LREM", KEYS[11], 1, jobId) == 1 then
        redis.call("LPUSH", KEYS[17], jobId)
        redis.call("SET", jobPrefix .. jobId .. ":lock", token, "PX", lockMs)
        redis.call("HSET", jobPrefix .. jobId, "processedOn", ARGV[3])
        taken = taken .. "1"
      else
        taken = taken .. "0"
      end
    end
    i = i + 3
  end
else
  bullAddJob({KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]}, ARGV[1], ARGV[7], ARGV[8], ARGV[3])
end
local event = ARGV[7]
if ARGV[11] ~= "" then event = ARGV[11] end
if ARGV[12] == "" then
  redis.call("HSET", KEYS[4], "event", event, "type", ARGV[9], "requestId", ARGV[10], "state", "received")
else
  redis.call("HSET", KEYS[4], "event", event, "type", ARGV[9], "requestId", ARGV[10], "state", "received",
    "answer", ARGV[12])
end
if decided and tonumber(ARGV[13]) > 0 then
  redis.call("HSET", KEYS[4], unpack(ARGV, 14, 13 + 2 * tonumber(ARGV[13])))
end
redis.call("PEXPIRE", KEYS[4], ARGV[5])
redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1])
-- last: the de-duplication and nonce records say "stored", so they are written once everything else is
redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[4])
if hasNonce then redis.call("SET", KEYS[2], ARGV[2], "EX", ARGV[4], "NX") end
return {"stored", ARGV[1], taken}

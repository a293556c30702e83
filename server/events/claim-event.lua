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
-- moveToActive takes a job for a worker: into the active list (KEYS[17]), locked with the token. Those are
-- stored there directly, as bull's addJob stores a job (the same hash) plus moveToActive's processedOn:
-- they never wait, so bull's job counter, the wait list and its "waiting" message are spared.
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
local f = 0
local taken = ""
if decided then
  f = tonumber(ARGV[13])
  local inline = tonumber(ARGV[14 + 2 * f])
  local token, lockMs, jobPrefix = ARGV[15 + 2 * f], ARGV[16 + 2 * f], ARGV[17 + 2 * f]
  local paused = inline > 0 and redis.call("EXISTS", KEYS[13]) == 1
  local i = 18 + 2 * f
  while i <= #ARGV do
    local jobId = ARGV[i]
    local data = '{"event":' .. ARGV[7] .. ',' .. string.sub(ARGV[i + 1], 2)
    local jobKey = jobPrefix .. jobId
    if #taken < inline and not paused and redis.call("EXISTS", jobKey) == 0 then
      -- taken at once: stored as bull's addJob stores it, then as its moveToActive takes it (into the
      -- active list, locked with the token, processedOn), without passing through the wait list
      redis.call("HSET", jobKey, "name", "__default__", "data", data, "opts", ARGV[i + 2],
        "timestamp", ARGV[3], "delay", "0", "priority", "0", "processedOn", ARGV[3])
      redis.call("LPUSH", KEYS[17], jobId)
      redis.call("SET", jobKey .. ":lock", token, "PX", lockMs)
      taken = taken .. "1"
    else
      if #taken < inline then taken = taken .. "0" end
      bullAddAction({KEYS[11], KEYS[12], KEYS[13], KEYS[14], KEYS[15], KEYS[16]}, jobId, data, ARGV[i + 2], ARGV[3])
    end
    i = i + 3
  end
else
  bullAddJob({KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]}, ARGV[1], ARGV[7], ARGV[8], ARGV[3])
end
local event = ARGV[7]
if ARGV[11] ~= "" then event = ARGV[11] end
-- the trace in one write: the event, the /answer reply's outcome, the decision
local fields = {"event", event, "type", ARGV[9], "requestId", ARGV[10], "state", "received"}
if ARGV[12] ~= "" then
  fields[9] = "answer"
  fields[10] = ARGV[12]
end
for k = 14, 13 + 2 * f do fields[#fields + 1] = ARGV[k] end
redis.call("HSET", KEYS[4], unpack(fields))
redis.call("PEXPIRE", KEYS[4], ARGV[5])
redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1])
-- last: the de-duplication and nonce records say "stored", so they are written once everything else is
redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[4])
if hasNonce then redis.call("SET", KEYS[2], ARGV[2], "EX", ARGV[4], "NX") end
return {"stored", ARGV[1], taken}

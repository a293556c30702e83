-- Claims an incoming delivery and stores it in one round trip (SPEC §2.1 replay, §2.2 de-duplication and
-- durability): the event's trace and time-index entry, and either its event job or, when the request path
-- has decided it, the decision and its action jobs. Scripts run in isolation but keep the writes made
-- before an error, so the jobs are written first and the de-duplication record last: if anything fails,
-- the caller answers 503, the sender retries, and the retry is stored (at worst a second time). Never a
-- lost event. Keys and arguments are built in one place: server/queue/scripts.ts `claim`.
-- KEYS: 1 de-dup key, 2 nonce key, 3 event index, 4 the trace (head .. event JSON? .. tail), 5 the calls'
-- index of the day (a hash: call -> its events, space-separated; "" when the event names no call; ARGV[17]
-- is the call's field, ARGV[18] when the index expires (epoch ms), ARGV[19] what is added for this event),
-- 6 the record a replay is linked to ("" when not a replay), 7-12 bull's addJob keys of the queue the claim
-- adds to: the events queue for an event job, the actions queue for action jobs (decided), and then only,
-- 13 the actions queue's active list. (Only the keys a claim uses are sent: the count varies.)
-- A replay (KEYS[6] given) reads and writes no de-duplication or nonce record: it is stored only while the
-- record it replays exists (else {"gone"}, nothing written), and ARGV[16] is appended to that record
-- (keeping its TTL).
-- Returns {"replayed"} | {"duplicate", first id} | {"gone"} | {"stored", id, taken}: taken has a "1" for
-- each of the first `take` action jobs that was taken by the caller, a "0" where it could not be (a paused
-- queue).

-- @bull-add-job bullAddEvent
-- @bull-add-job bullAddAction

local eventId, hash, now, ttl, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local signed, eventJson, eventOpts = ARGV[6] == "1", ARGV[7], ARGV[8]
local traceHead, traceWithEvent, traceTail = ARGV[9], ARGV[10] == "1", ARGV[11]
local take, token, lockMs, jobPrefix = tonumber(ARGV[12]), ARGV[13], ARGV[14], ARGV[15]
local replayOf, replayLink = KEYS[6], ARGV[16]
local call, callIndexExpiry, callMember = ARGV[17], ARGV[18], ARGV[19]
local decided = eventOpts == "" -- decided in the request path: action jobs instead of an event job
local FIRST_JOB = 20 -- then three arguments per action job: id, its data JSON less the event, opts JSON

local existing = false
if replayOf ~= "" then
  if redis.call("PTTL", replayOf) <= 0 then return {"gone"} end
  signed = false
elseif signed then
  -- the nonce's record and the delivery's, read in one call
  local records = redis.call("MGET", KEYS[2], KEYS[1])
  if records[1] and records[1] ~= hash then return {"replayed"} end
  existing = records[2]
else
  existing = redis.call("GET", KEYS[1])
end
if existing then
  if signed then redis.call("SET", KEYS[2], hash, "EX", ttl, "NX") end
  return {"duplicate", existing}
end

local taken = ""
if decided then
  local paused = take > 0 and redis.call("EXISTS", KEYS[9]) == 1 -- meta-paused
  for i = FIRST_JOB, #ARGV, 3 do
    local jobId = ARGV[i]
    local data = '{"event":' .. eventJson .. ',' .. string.sub(ARGV[i + 1], 2)
    local jobKey = jobPrefix .. jobId
    if #taken < take and not paused and redis.call("EXISTS", jobKey) == 0 then
      -- taken by the caller: stored as bull's addJob stores a job, then as its moveToActive takes it for a
      -- worker (into the active list, locked with the worker's token, processedOn), without the wait list
      redis.call("HSET", jobKey, "name", "__default__", "data", data, "opts", ARGV[i + 2],
        "timestamp", now, "delay", "0", "priority", "0", "processedOn", now)
      redis.call("LPUSH", KEYS[13], jobId)
      redis.call("SET", jobKey .. ":lock", token, "PX", lockMs)
      taken = taken .. "1"
    else
      if #taken < take then taken = taken .. "0" end
      bullAddAction({KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]}, jobId, data, ARGV[i + 2], now)
    end
  end
else
  bullAddEvent({KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]}, eventId, eventJson, eventOpts, now)
end
-- the trace in one write, with the retention (the event's JSON is put in here, not sent twice)
local trace = traceHead
if traceWithEvent then trace = trace .. eventJson end
redis.call("SET", KEYS[4], trace .. traceTail, "PX", retention)
redis.call("ZADD", KEYS[3], now, eventId)
if KEYS[5] ~= "" then
  local ids = redis.call("HGET", KEYS[5], call)
  redis.call("HSET", KEYS[5], call, ids and (ids .. " " .. callMember) or callMember)
  -- the day's expiry is the same for every call: set with each call's first event
  if not ids then redis.call("PEXPIREAT", KEYS[5], callIndexExpiry) end
end
if replayOf ~= "" then
  -- the link, last: the replayed record (read whole, as it is written) keeps its own TTL
  redis.call("SET", replayOf, redis.call("GET", replayOf) .. replayLink, "PX", redis.call("PTTL", replayOf))
  return {"stored", eventId, taken}
end
-- last: the de-duplication and nonce records say "stored", so they are written once everything else is
redis.call("SET", KEYS[1], eventId, "EX", ttl)
if signed then redis.call("SET", KEYS[2], hash, "EX", ttl, "NX") end
return {"stored", eventId, taken}

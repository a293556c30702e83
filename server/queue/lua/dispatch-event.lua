-- Records an event's decision in its trace and adds its action jobs, atomically, in one round trip
-- (SPEC §4.2, §4.5). A retried event job finds the decision already recorded: its action jobs were added
-- with it, under the ruleset version it names, so nothing is decided or added again.
-- Keys and arguments are built in one place: server/queue/scripts.ts `dispatchCall`.
-- KEYS: 1 the event's trace, 2-7 bull's addJob keys of the actions queue.
-- Returns 1 when dispatched now, 0 when the decision was already recorded.

-- @bull-add-job bullAddAction

local now, decision, eventJson = ARGV[1], ARGV[2], ARGV[3]
local FIRST_JOB = 4 -- then three arguments per action job: id, its data JSON less the event, opts JSON

if redis.call("HEXISTS", KEYS[1], "decision") == 1 then return 0 end
for i = FIRST_JOB, #ARGV, 3 do
  local data = '{"event":' .. eventJson .. ',' .. string.sub(ARGV[i + 1], 2)
  bullAddAction({KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]}, ARGV[i], data, ARGV[i + 2], now)
end
-- never create a trace: an expired one stays expired (it would have no TTL)
if redis.call("EXISTS", KEYS[1]) == 1 then redis.call("HSET", KEYS[1], "decision", decision) end
return 1

-- Records an event's decision in its trace and adds its action jobs, atomically, in one round trip
-- (SPEC §4.2, §4.5). A retried event job finds the decision already recorded: its action jobs were added
-- with it, under the ruleset version it names, so nothing is decided or added again.
-- Keys and arguments are built in one place: server/queue/scripts.ts `dispatch`.
-- KEYS: 1 the event's trace (`mark` in it says the decision is recorded; `append` records it), 2-7
-- bull's addJob keys of the actions queue.
-- Returns 1 when dispatched now, 0 when the decision was already recorded.

-- @bull-add-job bullAddAction

local now, mark, append, eventJson, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local FIRST_JOB = 6 -- then three arguments per action job: id, its data JSON less the event, opts JSON

local trace = redis.call("GET", KEYS[1])
if trace and string.find(trace, mark, 1, true) then return 0 end
for i = FIRST_JOB, #ARGV, 3 do
  local data = '{"event":' .. eventJson .. ',' .. string.sub(ARGV[i + 1], 2)
  bullAddAction({KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]}, ARGV[i], data, ARGV[i + 2], now)
end
-- SET of the joined text, not APPEND (which would leave the string room to grow for its whole retention),
-- with the TTL it had; a trace that has expired gets the decision alone, for the retention, so that a retry
-- of this job still finds the decision recorded and adds nothing again
local ttl = redis.call("PTTL", KEYS[1])
if trace and ttl > 0 then
  redis.call("SET", KEYS[1], trace .. append, "PX", ttl)
else
  redis.call("SET", KEYS[1], append, "PX", retention)
end
return 1

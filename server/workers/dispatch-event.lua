-- Records an event's decision in its trace and adds its action jobs, atomically, in one round trip
-- (SPEC §4.2, §4.5). A retried event job finds the decision already recorded: its action jobs were added
-- with it, under the ruleset version it names, so nothing is decided or added again.
-- KEYS[1] the event's trace   KEYS[2..7] bull's addJob keys of the actions queue
-- ARGV[1] now (ms)   ARGV[2] F, the number of trace fields   ARGV[3 .. 2+2F] field, value pairs
-- then three arguments per action job: job id, data (JSON), opts (JSON)
-- Returns 1 when dispatched now, 0 when the decision was already recorded.

-- @bull-add-job

if redis.call("HEXISTS", KEYS[1], "actions") == 1 then return 0 end
local fields = tonumber(ARGV[2])
local i = 3 + 2 * fields
while i <= #ARGV do
  bullAddJob({KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]}, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[1])
  i = i + 3
end
-- never create a trace: an expired one stays expired (it would have no TTL)
if fields > 0 and redis.call("EXISTS", KEYS[1]) == 1 then
  redis.call("HSET", KEYS[1], unpack(ARGV, 3, 2 + 2 * fields))
end
return 1

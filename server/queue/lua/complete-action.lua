-- Completes an action job taken at claim time and appends its delivery to the event's trace, in one
-- call: the trace first, then bull's own moveToFinished (bull 4.16.5's lib/scripts/moveToFinished-9.js,
-- unchanged, as a function), with the arguments bull's scripts.moveToFinishedArgs builds, except the
-- keep-jobs option, which comes as JSON and is packed here as bull packs it, so that no argument is binary
-- (ioredis encodes a command with a Buffer argument several times slower). Built in delivery-runner.ts.
-- KEYS: 1-9 bull's moveToFinished keys, 10 the event's trace.
-- ARGV: 1-12 bull's moveToFinished arguments (6: the keep-jobs option as JSON), 13 the text to append
-- to the trace ("" for none). Returns what bull's script returns (a negative code when the job is not
-- this worker's to complete).

-- @bull-move-to-finished bullMoveToFinished

if ARGV[13] ~= "" then
  -- the TTL is carried over; a trace that has expired stays expired
  local trace = redis.call("GET", KEYS[10])
  local ttl = redis.call("PTTL", KEYS[10])
  if trace and ttl > 0 then redis.call("SET", KEYS[10], trace .. ARGV[13], "PX", ttl) end
end
local argv = {unpack(ARGV, 1, 12)}
argv[6] = cmsgpack.pack(cjson.decode(argv[6]))
return bullMoveToFinished({unpack(KEYS, 1, 9)}, argv)

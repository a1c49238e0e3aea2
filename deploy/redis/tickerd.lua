#!lua name=tickerd
--
-- tickerd's change log, as a Redis function library (Redis 7+).
--
-- Every payload published to the ticker is recorded once in a capped stream,
-- even when several tickerd instances receive the same PUBLISH: a short-lived
-- dedupe key (SET NX) remembers the entry id of what was just recorded. The
-- entry id is the message's seq, the same on every instance.
--
--   FCALL tickerd_record 2 <prefix>:log <prefix>:seen <topic> <payload> [maxlen] [ttl] [token]
--
-- returns the entry id. A publisher can call it directly (redis-cli) to write
-- durably even when no tickerd is running; tickerd reads the log when it
-- starts or reconnects. tickerd loads this library with FUNCTION LOAD REPLACE.

local function record(keys, args)
  local stream, seen = keys[1], keys[2]
  local topic, payload = args[1], args[2]
  local maxlen = tonumber(args[3]) or 10000
  local ttl = tonumber(args[4]) or 10
  local token = args[5]
  if not topic or not payload then
    return redis.error_reply('usage: FCALL tickerd_record 2 <log> <seen> <topic> <payload> [maxlen] [ttl] [token]')
  end
  -- A sender that retries (after a lost connection, however long) passes
  -- the same token: the first answer is the answer, for a day.
  local tkey = token and (seen .. ':t:' .. token)
  if tkey then
    local id = redis.call('GET', tkey)
    if id then
      return id
    end
  end
  -- Several instances hear one PUBLISH within milliseconds: same payload,
  -- same entry, for ttl seconds.
  local key = seen .. ':' .. redis.sha1hex(topic .. '\n' .. payload)
  local id = redis.call('GET', key)
  if not id or id == '' then
    -- n numbers the entries 1, 2, 3...: a reader that sees n jump knows
    -- the cap trimmed entries away before it could read them.
    local n = redis.call('INCR', stream .. ':count')
    id = redis.call('XADD', stream, 'MAXLEN', maxlen, '*',
                    'topic', topic, 'payload', payload, 'n', n)
    redis.call('SET', key, id, 'EX', ttl)
  end
  if tkey then
    redis.call('SET', tkey, id, 'EX', 86400)
  end
  return id
end

redis.register_function('tickerd_record', record)

#!lua name=tickerd
--
-- tickerd's change log, as a Redis function library (Redis 7+).
--
-- Every payload published to the ticker is recorded once in a capped stream,
-- even when several tickerd instances receive the same PUBLISH: a short-lived
-- dedupe key (SET NX) remembers the entry id of what was just recorded. The
-- entry id is the message's seq, the same on every instance.
--
--   FCALL tickerd_record 2 <prefix>:log <prefix>:seen <topic> <payload> [maxlen] [ttl] [token] [by]
--
-- returns the entry id. <by> (1-64 of A-Z a-z 0-9 _ . -), the name of the
-- publisher key an HTTP publish came with, is kept in the entry as its field
-- "by" (the audit trail: who published, corrected or killed it); entries
-- without it (PUBLISH, redis-cli, older tickerds) are read as before. A publisher can call it directly (redis-cli) to write
-- durably even when no tickerd is running; tickerd reads the log when it
-- starts or reconnects. tickerd loads this library with FUNCTION LOAD REPLACE.
--
-- Every argument is checked before anything is written: a call answered with
-- an error ("ERR tickerd_record: <what is wrong>") has changed nothing.

local USAGE = 'usage: FCALL tickerd_record 2 <log> <seen> <topic> <payload> [maxlen] [ttl] [token] [by]'
local PAYLOAD_MAX = 256 * 1024

local function refuse(what, fn)
  return redis.error_reply('ERR ' .. (fn or 'tickerd_record') .. ': ' .. what)
end

-- A whole number >= 1 written in digits (at most 15 of them), or nil.
-- Absent (nil) gives default.
local function count_arg(s, default)
  if s == nil then
    return default
  end
  if #s > 15 or not string.find(s, '^%d+$') then
    return nil
  end
  local n = tonumber(s)
  if n < 1 then
    return nil
  end
  return n
end

-- Append one entry, numbered: n numbers the entries 1, 2, 3... so that a
-- reader that sees n jump knows the cap trimmed entries away before it could
-- read them. Read before writing: XADD is the first write, and the only one
-- that can fail (a key of another type); the SET after it cannot. extra:
-- more field, value pairs.
local function append(stream, maxlen, topic, payload, extra)
  local countkey = stream .. ':count'
  local n = (tonumber(redis.call('GET', countkey) or '0') or 0) + 1
  local fields = {'topic', topic, 'payload', payload, 'n', n}
  for _, v in ipairs(extra or {}) do
    fields[#fields + 1] = v
  end
  local id = redis.call('XADD', stream, 'MAXLEN', maxlen, '*', unpack(fields))
  redis.call('SET', countkey, n)
  return id
end

local function record(keys, args)
  if #keys ~= 2 or #args < 2 or #args > 6 then
    return refuse(USAGE)
  end
  local stream, seen = keys[1], keys[2]
  local topic, payload, token, by = args[1], args[2], args[5], args[6]
  -- A topic is what screens subscribe to: 1-64 of A-Z a-z 0-9 _ . - and
  -- nothing else (no NUL, no blank), exactly as tickerd checks it.
  if #topic < 1 or #topic > 64 or not string.find(topic, '^[A-Za-z0-9_.%-]+$') then
    return refuse('topic must be 1-64 of A-Z a-z 0-9 _ . -')
  end
  if #payload < 1 or #payload > PAYLOAD_MAX then
    return refuse('payload must be 1-' .. PAYLOAD_MAX .. ' bytes')
  end
  local maxlen = count_arg(args[3], 10000)
  if not maxlen then
    return refuse('maxlen must be a whole number >= 1')
  end
  local ttl = count_arg(args[4], 10)
  if not ttl then
    return refuse('ttl must be a whole number >= 1')
  end
  if token ~= nil and (#token < 1 or #token > 128 or not string.find(token, '^[\32-\126]+$')) then
    return refuse('token must be 1-128 printable bytes')
  end
  if by ~= nil and (#by < 1 or #by > 64 or not string.find(by, '^[A-Za-z0-9_.%-]+$')) then
    return refuse('by must be 1-64 of A-Z a-z 0-9 _ . -')
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
    -- the cap trimmed entries away before it could read them. Read before
    -- writing: XADD is the first write, and the only one that can fail (a
    -- key of another type); the SETs after it cannot.
    id = append(stream, maxlen, topic, payload, by and {'by', by} or nil)
    redis.call('SET', key, id, 'EX', ttl)
  end
  if tkey then
    redis.call('SET', tkey, id, 'EX', 86400)
  end
  return id
end

-- The stream's next ids come after <id>, the last one a tickerd has read:
-- after a failover lost entries, or on a master whose clock is behind, no
-- id a screen has seen is given to another entry.
--
--   FCALL tickerd_raise 1 <prefix>:log <id>
--
-- Does nothing when the stream is already past <id>; returns the stream's
-- last id. On a stream that does not exist, one entry is added and deleted
-- at once (XSETID needs a stream).
local function parse_id(s)
  local ms, seq = string.match(s or '', '^(%d+)%-(%d+)$')
  if not ms or #ms > 15 or #seq > 15 then
    return nil
  end
  return tonumber(ms), tonumber(seq)
end

local function raise(keys, args)
  if #keys ~= 1 or #args ~= 1 then
    return refuse('usage: FCALL tickerd_raise 1 <log> <id>', 'tickerd_raise')
  end
  local ms, seq = parse_id(args[1])
  if not ms then
    return refuse('id must be <ms>-<seq>', 'tickerd_raise')
  end
  local stream = keys[1]
  if redis.call('EXISTS', stream) == 0 then
    local id = redis.call('XADD', stream, string.format('%d-%d', ms, seq + 1), 'raise', '1')
    redis.call('XDEL', stream, id)
    return id
  end
  local info = redis.call('XINFO', 'STREAM', stream)
  local last
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      last = info[i + 1]
    end
  end
  local lms, lseq = parse_id(last)
  if lms and (lms > ms or (lms == ms and lseq >= seq)) then
    return last
  end
  redis.call('XSETID', stream, args[1])
  return args[1]
end

-- Things to do to the log later: release an embargoed item, retract an
-- expired one. Every tickerd reading the log asks for the same ones, as it
-- reads each entry; the first asking does it, the others (and a tickerd
-- reading the same entries again later) change nothing: each action
-- remembers the id of the entry that last changed it and takes only later
-- ones.
--
--   FCALL tickerd_schedule 2 <prefix>:due <prefix>:log <action> <ms> <entry-id> <topic> <payload> [maxlen]
--     <action> (at most 300 bytes, e.g. "release\n<topic>\n<id>") runs at
--     <ms>: <payload> is appended to the log then, on <topic>, marked
--     fired=<action>. Returns 1, or 0 if this or a later entry already
--     decided; 2 if the action already ran for an earlier entry: this
--     later one's payload is appended at once (a correction read just
--     after the release goes out too).
--   FCALL tickerd_unschedule 1 <prefix>:due <action> <entry-id>
--     cancels it (a kill before the release). 1, or 0 as above.
--   FCALL tickerd_fire 2 <prefix>:due <prefix>:log <now-ms> [maxlen]
--     appends what is due at <now-ms> (at most 100 at a time) and returns
--     how many; each action is appended once, whoever calls.
--
-- <prefix>:due is a sorted set (score: when); <prefix>:due:<sha1> holds an
-- action's topic, payload, the entry id that last decided it and whether it
-- ran (kept a day after it ran or was cancelled, so a late reader's replay
-- is refused).
local function later(a, b)
  local ams, aseq = parse_id(a)
  local bms, bseq = parse_id(b)
  return ams ~= nil and (bms == nil or ams > bms or (ams == bms and aseq > bseq))
end

-- The action's data key, and its action and entry-id arguments (args[1],
-- args[at]); nil when they are not right.
local function action_args(due, args, at)
  local action, entry = args[1], args[at]
  if not action or #action < 1 or #action > 300 or not parse_id(entry) then
    return nil
  end
  return due .. ':' .. redis.sha1hex(action), action, entry
end

local function schedule(keys, args)
  local data, action, entry = action_args(keys[1] or '', args, 3)
  local ms = count_arg(args[2], nil)
  local maxlen = count_arg(args[6], 10000)
  if #keys ~= 2 or #args < 5 or #args > 6 or not data or not ms or not maxlen then
    return refuse('usage: FCALL tickerd_schedule 2 <due> <log> <action> <ms> <entry-id> <topic> <payload> [maxlen]', 'tickerd_schedule')
  end
  if not later(entry, redis.call('HGET', data, 'entry')) then
    return 0
  end
  if redis.call('HGET', data, 'fired') == '1' then
    -- Already done, from an earlier entry: this later one (a correction
    -- read after the release) goes out now.
    append(keys[2], maxlen, args[4], args[5], {'fired', action})
    redis.call('HSET', data, 'entry', entry)
    return 2
  end
  redis.call('HSET', data, 'entry', entry, 'topic', args[4], 'payload', args[5])
  redis.call('PERSIST', data)
  redis.call('ZADD', keys[1], ms, action)
  return 1
end

local function unschedule(keys, args)
  local data, action, entry = action_args(keys[1] or '', args, 2)
  if #keys ~= 1 or #args ~= 2 or not data then
    return refuse('usage: FCALL tickerd_unschedule 1 <due> <action> <entry-id>', 'tickerd_unschedule')
  end
  if not later(entry, redis.call('HGET', data, 'entry')) then
    return 0
  end
  redis.call('HSET', data, 'entry', entry)
  redis.call('HDEL', data, 'topic', 'payload')
  redis.call('EXPIRE', data, 86400)
  redis.call('ZREM', keys[1], action)
  return 1
end

local function fire(keys, args)
  local now = count_arg(args[1], nil)
  local maxlen = count_arg(args[2], 10000)
  if #keys ~= 2 or not now or not maxlen then
    return refuse('usage: FCALL tickerd_fire 2 <due> <log> <now-ms> [maxlen]', 'tickerd_fire')
  end
  local due, stream = keys[1], keys[2]
  local fired = 0
  for _, action in ipairs(redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, 100)) do
    local data = due .. ':' .. redis.sha1hex(action)
    local topic = redis.call('HGET', data, 'topic')
    local payload = redis.call('HGET', data, 'payload')
    redis.call('ZREM', due, action)
    if topic and payload then
      append(stream, maxlen, topic, payload, {'fired', action})
      redis.call('HSET', data, 'fired', '1')
      redis.call('HDEL', data, 'topic', 'payload')
      redis.call('EXPIRE', data, 86400)
      fired = fired + 1
    end
  end
  return fired
end

redis.register_function('tickerd_record', record)
redis.register_function('tickerd_schedule', schedule)
redis.register_function('tickerd_unschedule', unschedule)
redis.register_function('tickerd_fire', fire)
redis.register_function('tickerd_raise', raise)

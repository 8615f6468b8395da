/**
 * The Lua of {@link RedisChannel}. KEYS are always `stream, meta, senders, dead, consumers` (one `{hash tag}`);
 * `consumers` holds the wake members of running consumers. A value lives in the stream from `send` until it is finished: `finish` and `dead` acknowledge
 * and delete it, so the stream's length is the number of values sent but unfinished (what `capacity` bounds), and
 * finished entries never pile up. Senders blocked by `capacity` are members `<wake channel> <id>` of the senders
 * set; every finish or close publishes a wake-up to each of them and empties the set (they try again).
 */
/**
 * Wakes every member of the set `key` (blocked senders retry their send, which re-registers them if still full;
 * consumers told of a close look at once instead of at their next scan).
 */
const WAKE = `
local function wake(key)
  local waiting = redis.call('SMEMBERS', key)
  if #waiting == 0 then return end
  redis.call('DEL', key)
  for _, member in ipairs(waiting) do
    local space = string.find(member, ' ', 1, true)
    redis.call('PUBLISH', string.sub(member, 1, space - 1), 'g ' .. string.sub(member, space + 1) .. ' 0 0')
  end
end
local function wakeSenders() wake(KEYS[3]) end
`;

/** The group's last delivered id (creating the group, and the stream, when missing). */
const GROUP = `
local function lastDelivered(group)
  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
  if ok then
    for _, g in ipairs(groups) do
      local name, last
      for i = 1, #g, 2 do
        if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then last = g[i + 1] end
      end
      if name == group then return last end
    end
  end
  redis.call('XGROUP', 'CREATE', KEYS[1], group, '0', 'MKSTREAM')
  return '0-0'
end
local function idParts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function isAfter(a, b)
  local am, as = idParts(a)
  local bm, bs = idParts(b)
  if am ~= bm then return am > bm end
  return as > bs
end
`;

/**
 * `send capacity member field value ...`: adds the values in order while fewer than `capacity` (0: no bound) are
 * unfinished. Reply: how many were added, or -1 when the channel is closed. When not all fit, `member` is
 * registered as a blocked sender in the same step, so no finish can slip between the check and the wait.
 */
export const SEND_LUA = `
if redis.call('HGET', KEYS[2], 'closed') then return -1 end
local n = (#ARGV - 2) / 2
local capacity = tonumber(ARGV[1])
if capacity > 0 then
  local free = capacity - redis.call('XLEN', KEYS[1])
  if free < n then
    n = math.max(free, 0)
    redis.call('SADD', KEYS[3], ARGV[2])
  end
end
for i = 1, n do redis.call('XADD', KEYS[1], '*', ARGV[1 + 2 * i], ARGV[2 + 2 * i]) end
return n
`;

/** `finish group id ...`: the values are done; acknowledges and deletes them. Reply: how many were pending. */
export const FINISH_LUA = `${WAKE}
local done = redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
wakeSenders()
return done
`;

/** `dead group id field value error attempts`: moves a value that failed every attempt to the dead-letter stream. */
export const DEAD_LUA = `${WAKE}
redis.call('XADD', KEYS[4], '*', ARGV[3], ARGV[4], 'error', ARGV[5], 'id', ARGV[2], 'attempts', ARGV[6])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
wakeSenders()
return 1
`;

/** `close`: marks the channel closed for every process, wakes blocked senders (they reject) and consumers. */
export const CLOSE_LUA = `${WAKE}
redis.call('HSET', KEYS[2], 'closed', '1')
wakeSenders()
wake(KEYS[5])
return 1
`;

/**
 * `take group consumer`: takes the next new value and finishes it at once (`receive`). Reply `{1, id, field, value}`,
 * or `{0, closed, lastDeliveredId}` when there is none (wait for an entry after that id).
 */
export const TAKE_LUA = `${WAKE}${GROUP}
local closed = redis.call('HGET', KEYS[2], 'closed') and 1 or 0
local last = lastDelivered(ARGV[1])
local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'NOACK', 'STREAMS', KEYS[1], '>')
if read then
  local entry = read[1][2][1]
  redis.call('XDEL', KEYS[1], entry[1])
  wakeSenders()
  return {1, entry[1], entry[2][1], entry[2][2]}
end
return {0, closed, last}
`;

/**
 * `scan group consumer visibility count staleAfter member`: registers `member` to be told of a close, claims up to `count` values whose delivery is older than
 * `visibility` ms (their consumer died or is too slow), trims entries that are finished but still stored (a
 * `receive` that died between taking and deleting), and, when `staleAfter` > 0, forgets consumers idle that long
 * with nothing pending. Reply `{closed, pending, undelivered, id, attempt, field, value, ...}` where `pending`
 * counts the group's unacknowledged deliveries and `undelivered` is 1 when entries wait for a first delivery.
 */
export const SCAN_LUA = `${GROUP}
local group, consumer, visibility, count, staleAfter = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local closed = redis.call('HGET', KEYS[2], 'closed') and 1 or 0
if closed == 0 then redis.call('SADD', KEYS[5], ARGV[6]) end
local last = lastDelivered(group)
local summary = redis.call('XPENDING', KEYS[1], group)
local pending = summary[1]
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local reply = {closed, pending, (newest and isAfter(newest[1], last)) and 1 or 0}
if pending > 0 and count > 0 then
  for _, p in ipairs(redis.call('XPENDING', KEYS[1], group, 'IDLE', visibility, '-', '+', count)) do
    local entry = redis.call('XCLAIM', KEYS[1], group, consumer, visibility, p[1])[1]
    if entry and entry[2] then
      reply[#reply + 1] = entry[1]
      reply[#reply + 1] = p[4] + 1
      reply[#reply + 1] = entry[2][1]
      reply[#reply + 1] = entry[2][2]
    end
  end
end
local floor = summary[2]
if not floor then
  local ms, seq = idParts(last)
  floor = string.format('%.0f-%.0f', ms, seq + 1)
end
redis.call('XTRIM', KEYS[1], 'MINID', floor)
if staleAfter > 0 then
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], group)) do
    local name, held, idle
    for i = 1, #c, 2 do
      if c[i] == 'name' then name = c[i + 1] elseif c[i] == 'pending' then held = c[i + 1]
      elseif c[i] == 'idle' then idle = c[i + 1] end
    end
    if held == 0 and idle > staleAfter and name ~= consumer then
      redis.call('XGROUP', 'DELCONSUMER', KEYS[1], group, name)
    end
  end
end
return reply
`;

/**
 * The Lua run inside Redis: one script per kind of primitive, each made of the shared wait-queue part and the
 * primitive's own part. Every script reads Redis `TIME` (client clocks never decide a lease or a window), takes
 * all its keys under the primitive's one `{hash tag}`, and starts with the operation's name in `ARGV[1]`:
 *
 * - `acquire id weight mode`: grant now, or queue the waiter (`mode` `try`: never queue). Idempotent per id, so a
 *   wait whose reply was lost can send it again. Reply `{1, now, token, remaining}` granted, `{0, now, hint, head}`
 *   queued, `{2, now}` refused.
 * - `leave id`: the waiter or holder `id` goes (release, abort, timeout). Reply `{held, now}`.
 * - `renew id`: extends a live lease, never revives an ended one. Reply `{ok, now}`.
 * - `heartbeat id weight ...`: keeps the given waiters alive and reports each one's state (1 granted, token,
 *   remaining; 0 queued; 3 unknown to Redis). Reply `{now, hint, head, ...}`.
 *
 * ARGV[2] is the capacity (or limit), ARGV[3] the lease (or interval), ARGV[4] how long a silent waiter stays in
 * the queue. The queue is a sorted set by arrival, beside a sorted set of waiter deadlines (a waiter whose process
 * died is dropped when it reaches the head) and a hash of entries (`weight lease token`). Each grant to a waiter is
 * published to its process's wake channel; the head of a rate limiter's queue is told when to try again.
 */

/** The wake channel of a waiter's process: the waiter id is `<connection>:<n>`. */
export const WAKE_CHANNEL_PREFIX = 'weft:wake:';

const HEADER = `
local queue, waiters, entries = KEYS[1], KEYS[2], KEYS[3]
local op, param, span, liveness = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function fmt(n) return string.format('%.0f', n) end
local function channel(id) return '${WAKE_CHANNEL_PREFIX}' .. string.match(id, '^(.*):') end
local function entry(id)
  local v = redis.call('HGET', entries, id)
  if not v then return nil end
  local w, l, t = string.match(v, '^(%d+) (%d+) (%d+)$')
  return tonumber(w), tonumber(l), tonumber(t)
end
local function headOf() return redis.call('ZRANGE', queue, 0, 0)[1] end
`;

/**
 * The wait queue, the grant loop and the operations. Each primitive defines before it: `sweep()` (frees what
 * ended, returns how much), `fits(w)`, `admit(id, w, lease)` (returns token and lease end), `granted(id, w)`,
 * `hint(head)` (ms until the head may go, or -1), `leave(id)`, `renew(id)`, `nextSeq()` (arrival order),
 * `queueLeft()` (called when a waiter leaves the queue), and the flags `notifyHead` (tell a new blocked head
 * when to try) and `grantsOutliveEntries` (a grant can be found without an entry).
 */
const QUEUE = `
local function dequeue(id)
  redis.call('ZREM', queue, id)
  redis.call('ZREM', waiters, id)
  queueLeft()
end
local function enqueue(id, w)
  redis.call('ZADD', queue, nextSeq(), id)
  redis.call('ZADD', waiters, now + liveness, id)
  redis.call('HSET', entries, id, w .. ' ' .. span .. ' 0')
end
local function serve()
  local changed = false
  while true do
    local head = headOf()
    if not head then return end
    local w, l = entry(head)
    local alive = tonumber(redis.call('ZSCORE', waiters, head) or '0')
    if not w or alive <= now then
      dequeue(head)
      redis.call('HDEL', entries, head)
    elseif fits(w) then
      dequeue(head)
      local token, expiry = admit(head, w, l)
      redis.call('PUBLISH', channel(head), 'g ' .. head .. ' ' .. fmt(token) .. ' ' .. fmt(expiry))
    else
      if changed and notifyHead then
        local delay = hint(head)
        if delay >= 0 then redis.call('PUBLISH', channel(head), 'h ' .. head .. ' 0 ' .. fmt(delay)) end
      end
      return
    end
    changed = true
  end
end
local function status(id, w)
  local token, remaining = granted(id, w)
  if token then return 1, token, remaining end
  if redis.call('ZSCORE', queue, id) then return 0, 0, 0 end
  return 3, 0, 0
end
if sweep() > 0 or op == 'heartbeat' then serve() end
if op == 'acquire' then
  local id, w, mode = ARGV[5], tonumber(ARGV[6]), ARGV[7]
  local s, token, remaining = 3, 0, 0
  if grantsOutliveEntries or redis.call('HEXISTS', entries, id) == 1 then s, token, remaining = status(id, w) end
  if s == 1 then return {1, now, token, remaining} end
  local head = headOf()
  if s == 0 then
    redis.call('ZADD', waiters, 'XX', now + liveness, id)
    return {0, now, hint(head), head}
  end
  if not head and fits(w) then
    local token, expiry = admit(id, w, span)
    return {1, now, token, expiry - now}
  end
  if mode == 'try' then return {2, now} end
  enqueue(id, w)
  head = head or id
  return {0, now, hint(head), head}
elseif op == 'leave' then
  local id = ARGV[5]
  local held = leave(id)
  if redis.call('ZSCORE', queue, id) then dequeue(id) end
  if held == 0 then redis.call('HDEL', entries, id) end
  serve()
  return {held, now}
elseif op == 'renew' then
  return {renew(ARGV[5]), now}
elseif op == 'heartbeat' then
  local head = headOf()
  local out = {now, head and hint(head) or -1, head or ''}
  for i = 5, #ARGV, 2 do
    local id = ARGV[i]
    local s, token, remaining = status(id, tonumber(ARGV[i + 1]))
    if s == 0 then redis.call('ZADD', waiters, 'XX', now + liveness, id) end
    out[#out + 1] = s
    out[#out + 1] = token
    out[#out + 1] = remaining
  end
  return out
end
return redis.error_reply('ERR weft: unknown operation ' .. tostring(op))
`;

/**
 * Semaphore (a mutex is a semaphore of one). KEYS[4] holders: sorted set of holder ids by lease end; KEYS[5]
 * the fencing counter, the one key that stays when the semaphore is idle. Permits in use are the entries' `#used`.
 * The counter starts at Redis time in microseconds, so tokens keep growing even if Redis loses its data.
 */
export const SEMAPHORE_LUA = `${HEADER}
local holders, counter = KEYS[4], KEYS[5]
local notifyHead, grantsOutliveEntries = false, false
local function nextSeq()
  local n = redis.call('INCR', counter)
  if n == 1 then
    n = now * 1000
    redis.call('SET', counter, fmt(n))
  end
  return n
end
local function queueLeft() end
local function addUsed(d)
  if redis.call('HINCRBY', entries, '#used', d) <= 0 then redis.call('HDEL', entries, '#used') end
end
local function fits(w) return w <= param - tonumber(redis.call('HGET', entries, '#used') or '0') end
local function free(id)
  local w = entry(id)
  redis.call('ZREM', holders, id)
  redis.call('HDEL', entries, id)
  if w then addUsed(-w) end
end
local function sweep()
  local ended = redis.call('ZRANGEBYSCORE', holders, '-inf', now)
  for i = 1, #ended do free(ended[i]) end
  return #ended
end
local function admit(id, w, l)
  local token = nextSeq()
  redis.call('ZADD', holders, now + l, id)
  redis.call('HSET', entries, id, w .. ' ' .. l .. ' ' .. fmt(token))
  addUsed(w)
  return token, now + l
end
local function granted(id)
  local until_ = redis.call('ZSCORE', holders, id)
  if not until_ then return nil end
  local _, _, token = entry(id)
  return token, tonumber(until_) - now
end
local function hint(head)
  if not head then return -1 end
  local first = redis.call('ZRANGE', holders, 0, 0, 'WITHSCORES')
  if first[2] then return tonumber(first[2]) - now end
  return -1
end
local function leave(id)
  if not redis.call('ZSCORE', holders, id) then return 0 end
  free(id)
  return 1
end
local function renew(id)
  if not redis.call('ZSCORE', holders, id) then return 0 end
  redis.call('ZADD', holders, 'XX', now + span, id)
  return 1
end
${QUEUE}`;

/**
 * Rate limiter: KEYS[4] the log of admissions in the window (sorted set of `weight id` by time), KEYS[5] the sum
 * of their weights. Both expire one interval after the last admission, so an idle limiter leaves nothing behind.
 * An admission stays findable by id for a whole interval, which makes a repeated `acquire` harmless.
 */
export const RATE_LIMITER_LUA = `${HEADER}
local log, total = KEYS[4], KEYS[5]
local notifyHead, grantsOutliveEntries = true, true
local function nextSeq() return redis.call('HINCRBY', entries, '#seq', 1) end
local function queueLeft()
  if redis.call('ZCARD', queue) == 0 then redis.call('HDEL', entries, '#seq') end
end
local function sum() return tonumber(redis.call('GET', total) or '0') end
local function fits(w) return w <= param - sum() end
local function sweep()
  local old = redis.call('ZRANGEBYSCORE', log, '-inf', now - span)
  if #old == 0 then return 0 end
  local freed = 0
  for i = 1, #old do freed = freed + tonumber(string.match(old[i], '^(%d+) ')) end
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - span)
  if redis.call('DECRBY', total, freed) <= 0 then redis.call('DEL', total) end
  return #old
end
local function admit(id, w)
  redis.call('ZADD', log, now, w .. ' ' .. id)
  redis.call('INCRBY', total, w)
  redis.call('PEXPIRE', log, span)
  redis.call('PEXPIRE', total, span)
  redis.call('HDEL', entries, id)
  return 0, now
end
local function granted(id, w)
  if redis.call('ZSCORE', log, w .. ' ' .. id) then return 0, 0 end
  return nil
end
local function hint(head)
  if not head then return -1 end
  local w = entry(head)
  local needed = sum() + (w or 0) - param
  if needed <= 0 then return 0 end
  local oldest = redis.call('ZRANGE', log, 0, needed - 1, 'WITHSCORES')
  local freed = 0
  for i = 1, #oldest, 2 do
    freed = freed + tonumber(string.match(oldest[i], '^(%d+) '))
    if freed >= needed then return tonumber(oldest[i + 1]) + span - now end
  end
  return span
end
local function leave() return 0 end
local function renew() return 0 end
${QUEUE}`;

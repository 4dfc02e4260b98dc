"""The Lua scripts that count the limits in Redis. Each check is one script, run atomically by Redis: no instance
ever reads a counter and writes it back from Python, so concurrent requests on any number of instances see one
order.

Every script takes its keys four per quota (``KEYS``): the request log (a sorted set of request ids scored by when
they were admitted), the token log (a sorted set of ``id:tokens`` scored by when they were charged), the running
token sum of that log, and the stream leases (a sorted set of lease ids scored by when each expires). ``ARGV[1]``
is "now" in milliseconds; empty, the script reads Redis's own clock, which every instance shares.

Algorithms: a sliding-window log for requests (exact: of any 60 seconds, at most the limit is admitted), a sliding
window of charges for tokens (checked before a request: over the limit, refused until enough of the window's
charges age out; charged after the answer), and expiring leases for streams (a lease an instance stops refreshing,
because it died, lapses by itself).
"""

from __future__ import annotations

from typing import Final

KEYS_PER_QUOTA: Final = 4
REQUESTS, TOKENS, STREAMS = 1, 2, 3
"""The limit a refusal names (``ADMIT``'s answer)."""

_NOW: Final = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

_TOKENS_OF: Final = """
local function tokens_of(entry)
  return tonumber(string.match(entry, ':(%d+)$')) or 0
end
-- the token log's charges that left the window leave its sum; returns the sum of those still in it
local function tokens_used(log, sum, since)
  local old = redis.call('ZRANGEBYSCORE', log, '-inf', since)
  local used = tonumber(redis.call('GET', sum) or '0')
  if #old > 0 then
    for _, entry in ipairs(old) do used = used - tokens_of(entry) end
    if used < 0 then used = 0 end
    redis.call('ZREMRANGEBYSCORE', log, '-inf', since)
    if used == 0 then redis.call('DEL', sum) else redis.call('SET', sum, used, 'KEEPTTL') end
  end
  return used
end
"""

ADMIT: Final = (
    _NOW
    + _TOKENS_OF
    + """
-- ARGV: now, window ms, member (unique per request), lease ms, stream (1/0), then per quota: requests, tokens,
-- streams limits (0: none). Answers {1, per quota: requests left, ms to reset, tokens left, ms to reset}
-- or {0, quota index (0-based), limit (1 requests, 2 tokens, 3 streams), ms to retry, limit value}.
local window = tonumber(ARGV[2])
local member = ARGV[3]
local lease = tonumber(ARGV[4])
local stream = ARGV[5] == '1'
local since = now - window
local quotas = #KEYS / 4
local answer = {1}
for q = 0, quotas - 1 do
  local requests, tokens, streams = KEYS[q * 4 + 1], KEYS[q * 4 + 2], KEYS[q * 4 + 4]
  local sum = KEYS[q * 4 + 3]
  local max_requests = tonumber(ARGV[6 + q * 3])
  local max_tokens = tonumber(ARGV[7 + q * 3])
  local max_streams = tonumber(ARGV[8 + q * 3])
  local left_requests, reset_requests, left_tokens, reset_tokens = -1, 0, -1, 0
  if max_requests > 0 then
    redis.call('ZREMRANGEBYSCORE', requests, '-inf', since)
    local count = redis.call('ZCARD', requests)
    if count >= max_requests then
      -- room comes back when the entry that keeps the log at its limit leaves the window
      local entry = redis.call('ZRANGE', requests, count - max_requests, count - max_requests, 'WITHSCORES')
      return {0, q, 1, math.max(1, tonumber(entry[2]) + window - now), max_requests}
    end
    left_requests = max_requests - count - 1
    local oldest = redis.call('ZRANGE', requests, 0, 0, 'WITHSCORES')
    reset_requests = window
    if #oldest > 0 then reset_requests = tonumber(oldest[2]) + window - now end
  end
  if max_tokens > 0 then
    local used = tokens_used(tokens, sum, since)
    if used >= max_tokens then
      local entries = redis.call('ZRANGE', tokens, 0, -1, 'WITHSCORES')
      local freed, retry = 0, window
      for i = 1, #entries, 2 do
        freed = freed + tokens_of(entries[i])
        if used - freed < max_tokens then
          retry = tonumber(entries[i + 1]) + window - now
          break
        end
      end
      return {0, q, 2, math.max(1, retry), max_tokens}
    end
    left_tokens = max_tokens - used
    local oldest = redis.call('ZRANGE', tokens, 0, 0, 'WITHSCORES')
    if #oldest > 0 then reset_tokens = tonumber(oldest[2]) + window - now end
  end
  if stream and max_streams > 0 then
    redis.call('ZREMRANGEBYSCORE', streams, '-inf', now)
    local open = redis.call('ZCARD', streams)
    if open >= max_streams then
      local first = redis.call('ZRANGE', streams, 0, 0, 'WITHSCORES')
      return {0, q, 3, math.max(1, tonumber(first[2]) - now), max_streams}
    end
  end
  table.insert(answer, left_requests)
  table.insert(answer, reset_requests)
  table.insert(answer, left_tokens)
  table.insert(answer, reset_tokens)
end
-- every limit has room: the request is counted in each
for q = 0, quotas - 1 do
  if tonumber(ARGV[6 + q * 3]) > 0 then
    redis.call('ZADD', KEYS[q * 4 + 1], now, member)
    redis.call('PEXPIRE', KEYS[q * 4 + 1], window)
  end
  if stream and tonumber(ARGV[8 + q * 3]) > 0 then
    redis.call('ZADD', KEYS[q * 4 + 4], now + lease, member)
    redis.call('PEXPIRE', KEYS[q * 4 + 4], lease)
  end
end
return answer
"""
)

REFRESH: Final = (
    _NOW
    + """
-- ARGV: now, member, lease ms. A running stream's leases pushed back; one that lapsed meanwhile is not revived.
local lease = tonumber(ARGV[3])
local kept = 0
for q = 0, #KEYS / 4 - 1 do
  local streams = KEYS[q * 4 + 4]
  kept = kept + redis.call('ZADD', streams, 'XX', 'CH', now + lease, ARGV[2])
  redis.call('PEXPIRE', streams, lease)
end
return kept
"""
)

SETTLE: Final = (
    _NOW
    + """
-- ARGV: now, window ms, member, tokens, then per quota: whether it counts tokens (1/0). The answer's tokens
-- charged, and the stream's leases given back.
local window = tonumber(ARGV[2])
local member = ARGV[3]
local tokens = tonumber(ARGV[4])
for q = 0, #KEYS / 4 - 1 do
  redis.call('ZREM', KEYS[q * 4 + 4], member)
  if tokens > 0 and ARGV[5 + q] == '1' then
    redis.call('ZADD', KEYS[q * 4 + 2], now, member .. ':' .. tokens)
    redis.call('INCRBY', KEYS[q * 4 + 3], tokens)
    redis.call('PEXPIRE', KEYS[q * 4 + 2], window)
    redis.call('PEXPIRE', KEYS[q * 4 + 3], window)
  end
end
return 1
"""
)

/**
 * The limiter's Redis side: two Lua scripts, each run atomically by Redis, so replicas never
 * read-then-write. Each bucket is stored as the epoch ms at which it is full again (the
 * caller's clock, passed in, so tests can inject time; expiries are relative to it too); a missing
 * key is a full bucket. The
 * admission script repeats `decide` from rate-bucket.ts: budget, then requests, then tokens,
 * and it writes nothing unless everything passes.
 */

/**
 * KEYS: requests, tokens, spend. ARGV: window ms, then five per admission: now, rpm, tpm (0: none),
 * tokens, max spend (-1: none). The admissions are decided one after another, each seeing what the
 * ones before it wrote, exactly as that many calls in a row would be. Nothing else runs while a
 * script does, so each key is read once, carried through the admissions as the value a write
 * would have stored (rounded as `SET` stores it), and written once at the end: the last
 * admission's value and expiry, which is what the calls in a row would leave. The reply joins one
 * string per admission with commas; each is six space-separated fields (the verdict, then
 * numbers, which Redis would truncate to integers as Lua numbers): a client decodes one string
 * much faster than an array.
 */
export const admitScript = `
local window = tonumber(ARGV[1])
local slack = 1e-6

local requestsAt, tokensAt, spend
local requestsValue, requestsExpiry, tokensValue, tokensExpiry
local replies = {}
for i = 2, #ARGV, 5 do
  local now = tonumber(ARGV[i])
  local rpm = tonumber(ARGV[i + 1])
  local tpm = tonumber(ARGV[i + 2])
  local units = tonumber(ARGV[i + 3])
  local maxSpend = tonumber(ARGV[i + 4])

  local requestsBefore, requestsAfter, tokensBefore, tokensAfter = 0, 0, 0, 0
  if rpm > 0 then
    requestsAt = requestsAt or tonumber(redis.call('GET', KEYS[1]) or '0')
    requestsBefore = math.max(0, requestsAt - now)
    requestsAfter = requestsBefore + window / rpm
  end
  if tpm > 0 then
    tokensAt = tokensAt or tonumber(redis.call('GET', KEYS[2]) or '0')
    tokensBefore = math.max(0, tokensAt - now)
    tokensAfter = tokensBefore + units * window / tpm
  end
  local spent = 0
  if maxSpend >= 0 then
    spend = spend or tonumber(redis.call('GET', KEYS[3]) or '0')
    spent = spend
  end

  local verdict = 'admitted'
  if maxSpend >= 0 and spent >= maxSpend then verdict = 'budget'
  elseif rpm > 0 and requestsAfter > window + slack then verdict = 'rpm'
  elseif tpm > 0 and tokensAfter > window + slack then verdict = 'tpm' end

  if verdict == 'admitted' then
    if rpm > 0 then
      requestsValue = string.format('%.3f', now + requestsAfter)
      requestsExpiry = math.ceil(requestsAfter) + 1000
      requestsAt = tonumber(requestsValue)
    end
    if tpm > 0 and tokensAfter > 0 then
      tokensValue = string.format('%.3f', now + tokensAfter)
      tokensExpiry = math.ceil(tokensAfter) + 1000
      tokensAt = tonumber(tokensValue)
    end
  end
  replies[#replies + 1] = string.format('%s %.6f %.6f %.6f %.6f %s', verdict, requestsBefore,
    requestsAfter, tokensBefore, tokensAfter, tostring(spent))
end
if requestsValue then redis.call('SET', KEYS[1], requestsValue, 'PX', requestsExpiry) end
if tokensValue then redis.call('SET', KEYS[2], tokensValue, 'PX', tokensExpiry) end
return table.concat(replies, ',')
`

/** KEYS: tokens, spend. ARGV: now, window ms, tpm (0: none), token delta, cost, spend time to live (ms). */
export const settleScript = `
local now = tonumber(ARGV[1])
local tpm = tonumber(ARGV[3])
local delta = tonumber(ARGV[4])
if tpm > 0 and delta ~= 0 then
  local fullAt = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now) + delta * tonumber(ARGV[2]) / tpm
  if fullAt <= now then
    redis.call('DEL', KEYS[1])
  else
    redis.call('SET', KEYS[1], string.format('%.3f', fullAt), 'PX', math.ceil(fullAt - now) + 1000)
  end
end
if tonumber(ARGV[5]) > 0 then
  redis.call('INCRBYFLOAT', KEYS[2], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
return 1
`

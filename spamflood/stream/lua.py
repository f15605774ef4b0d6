"""The Redis store's server-side script (Lua): one post, one atomic round trip.

Redis runs a script to completion before any other command, so everything the script does
for a post happens at once for every worker sharing the server: move the watermark, drop the
slices that fell out of the window, look the post's band buckets up, verify the candidates
against their stored signatures, join the best one's cluster or found a new one, and count.
Lookup-or-create is therefore atomic: two workers that see the first two copies of a flood at
the same instant still end in one cluster, and counts are never lost.

Verification runs here too: an exact copy is one string comparison; otherwise signatures are
unpacked with Redis' bundled ``struct`` library, eight values at a time, and compared until
the best match so far is out of reach (a few microseconds per candidate). The rules are those of the memory store
(:mod:`spamflood.stream.memory_store`), so both give the same verdicts.

Keys (``P`` is the deployment's key prefix; ``s`` a slice number, ``floor(time / width)``)::

    P:cfg           the settings of the monitors using this prefix (others are refused)
    P:wm            watermark: the latest post time seen by any worker
    P:lo            the oldest slice still kept
    P:gc            list of P:gcs:<s> sets: clusters of dropped slices, to trim and delete
    P:bt:<s>        band table of slice s: hash band key (8 bytes) -> "<time> <post id>",
                    the newest post of that slice in that bucket
    P:po:<s>        posts of slice s: hash post id -> "<time>\\t<cluster>\\t<signature><author>"
    P:cs:<s>        set of the clusters of two or more posts that posts of slice s joined
    P:cp:<c>        cluster c's posts: sorted set post id -> time
    P:ca:<c>        cluster c's accounts: sorted set author -> time of their newest post
    P:cr:<c>:<a>    author a's posts in cluster c: sorted set post id -> time

A post without a known account (no author, or its own id as author, which is what a reader
gives such a post) has an empty author in its record: it joins its cluster and counts in its
size, but is no account, so it adds no member to ``P:ca`` and has no ``P:cr`` set (the batch
engine counts it the same way).

A post alone (most posts) has only its record and its bucket entries: a cluster gets its
three sorted sets when a second post joins it, starting with the record of the post it matched.
Every key expires (``ttl``: window + one slice + a margin, renewed on each write), so what a
crashed or retired deployment leaves behind goes away by itself. Within the window, eviction
follows event time: slices older than the window are deleted as soon as the watermark passes
them, counts are trimmed with ``ZREMRANGEBYSCORE`` at the window's start, and the clusters of
a dropped slice are trimmed (deleted once empty) four per call. Times travel as the client's
decimal text (``repr(float)``) and are parsed only for comparisons, so sorted-set scores keep
full precision.

The script builds key names from the prefix, so it suits a single Redis server (with
replicas or Sentinel), not Redis Cluster. It needs Redis 6.2 or newer (``ZADD GT``).
"""

from __future__ import annotations

__all__ = ["ADD"]

ADD = r"""
-- KEYS: P:cfg, P:wm, P:lo, P:gc.
-- ARGV: prefix, width, window, ttl, settings, need, time, post id, author, signature (uint32
--       little-endian), new cluster id, band keys (8 bytes each, concatenated).
local prefix = ARGV[1]
local width = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local settings = ARGV[5]
local need = tonumber(ARGV[6])
local tstr = ARGV[7]
local t = tonumber(tstr)
local pid = ARGV[8]
local author = ARGV[9] -- '' for a post without a known account: counted in the cluster, as no account
local known = author ~= ''
local sig = ARGV[10]
local cid = ARGV[11]
local packed = ARGV[12]
local nperm = #sig / 4
local fields = {}
for i = 1, #packed / 8 do
  fields[i] = string.sub(packed, 8 * i - 7, 8 * i)
end

local function fmt(x)
  return string.format('%.17g', x)
end

local function slice_name(s)
  return string.format('%d', s)
end

-- A post record -> time (text), cluster, 1-based offset of its signature
local function split_record(rec)
  local a = string.find(rec, '\t', 1, true)
  local b = string.find(rec, '\t', a + 1, true)
  return string.sub(rec, 1, a - 1), string.sub(rec, a + 1, b - 1), b + 1
end

-- "<time> <post id>" -> time, post id
local function split_entry(v)
  local sep = string.find(v, ' ', 1, true)
  return tonumber(string.sub(v, 1, sep - 1)), string.sub(v, sep + 1)
end

-- Settings of other monitors are refused without renewing them, so an index left by monitors
-- of other settings (another band hash, say) still expires while refused ones knock.
local cfg = redis.call('GET', KEYS[1])
if not cfg then
  redis.call('SET', KEYS[1], settings, 'EX', ttl)
elseif cfg ~= settings then
  return {'config', cfg}
else
  redis.call('EXPIRE', KEYS[1], ttl)
end

local wm = tonumber(redis.call('GET', KEYS[2]))
local in_order = (not wm) or t >= wm
if in_order then
  redis.call('SET', KEYS[2], tstr, 'EX', ttl)
  wm = t
end
local cutoff = wm - window
if t < cutoff then
  return {'late', fmt(wm)}
end
local bound = '(' .. fmt(cutoff)
local lo = math.floor(cutoff / width)
local hi = math.floor(wm / width)

-- Drop a cluster's posts and accounts older than the window; its size afterwards.
local function trim(c)
  local cp = prefix .. ':cp:' .. c
  local ca = prefix .. ':ca:' .. c
  redis.call('ZREMRANGEBYSCORE', cp, '-inf', bound)
  local gone = redis.call('ZRANGEBYSCORE', ca, '-inf', bound)
  if #gone > 0 then
    redis.call('ZREMRANGEBYSCORE', ca, '-inf', bound)
    for _, a in ipairs(gone) do
      redis.call('DEL', prefix .. ':cr:' .. c .. ':' .. a)
    end
  end
  return redis.call('ZCARD', cp)
end

-- Forget whole slices that fell out of the window; queue their clusters for trimming.
local kept = tonumber(redis.call('GET', KEYS[3]))
if (not kept) or lo > kept then
  if kept then
    for s = math.max(kept, lo - 16), lo - 1 do
      local name = slice_name(s)
      redis.call('DEL', prefix .. ':bt:' .. name, prefix .. ':po:' .. name)
      local cs = prefix .. ':cs:' .. name
      if redis.call('EXISTS', cs) == 1 then
        local queued = prefix .. ':gcs:' .. name
        redis.call('RENAME', cs, queued)
        redis.call('RPUSH', KEYS[4], queued)
        redis.call('EXPIRE', KEYS[4], ttl)
      end
    end
  end
  redis.call('SET', KEYS[3], slice_name(lo), 'EX', ttl)
end
-- Trim a few clusters of dropped slices per call, so the work is spread over the stream.
local queued = redis.call('LINDEX', KEYS[4], 0)
if queued then
  local some = redis.call('SPOP', queued, 4)
  for _, c in ipairs(some) do
    trim(c)
  end
  if #some < 4 then
    redis.call('LPOP', KEYS[4])
  end
end

local s = slice_name(math.floor(t / width))
local po = prefix .. ':po:' .. s
-- A post id already recorded at this time inside the window is counted once (a redelivery).
local dup = redis.call('HGET', po, pid)
if dup then
  local dt, dc = split_record(dup)
  if dt == tstr then
    cid = dc
  else
    dup = nil
  end
end

local match = nil
if not dup then
  -- Candidates: the newest post of each bucket in each slice of the window, in order.
  local read, found = {}, {}
  local sigfmt = '<' .. string.rep('I4', nperm)
  local fmt8 = '<I4I4I4I4I4I4I4I4'
  local mine = nil
  local best_equal = need - 1
  local best_time = nil
  for x = lo, hi do
    local values = redis.call('HMGET', prefix .. ':bt:' .. slice_name(x), unpack(fields))
    for _, v in ipairs(values) do
      if v and not read[v] then
        read[v] = true
        local vt, id = split_entry(v)
        if vt >= cutoff and not found[id] and id ~= pid then
          found[id] = true
          local rec = redis.call('HGET', prefix .. ':po:' .. slice_name(math.floor(vt / width)), id)
          if rec then
            local rt, rc, at = split_record(rec)
            local equal = 0
            if string.sub(rec, at, at + #sig - 1) == sig then
              equal = nperm -- an exact copy
            else
              -- Count equal values, eight at a time, until the best so far is out of reach.
              mine = mine or {struct.unpack(sigfmt, sig)}
              local pos, j = at, 0
              while j + 8 <= nperm do
                local o1, o2, o3, o4, o5, o6, o7, o8, nxt = struct.unpack(fmt8, rec, pos)
                if mine[j + 1] == o1 then equal = equal + 1 end
                if mine[j + 2] == o2 then equal = equal + 1 end
                if mine[j + 3] == o3 then equal = equal + 1 end
                if mine[j + 4] == o4 then equal = equal + 1 end
                if mine[j + 5] == o5 then equal = equal + 1 end
                if mine[j + 6] == o6 then equal = equal + 1 end
                if mine[j + 7] == o7 then equal = equal + 1 end
                if mine[j + 8] == o8 then equal = equal + 1 end
                pos, j = nxt, j + 8
                if equal + nperm - j < best_equal then
                  break
                end
              end
              if equal + nperm - j >= best_equal then
                while j < nperm do
                  local o, nxt = struct.unpack('<I4', rec, pos)
                  j, pos = j + 1, nxt
                  if mine[j] == o then equal = equal + 1 end
                end
              end
            end
            if equal > best_equal or (equal == best_equal and match and vt > best_time) then
              match = {id, rc, vt, string.sub(rec, at + #sig), rt}
              best_equal = equal
              best_time = vt
            end
          end
        end
      end
    end
  end
  if match then
    cid = match[2]
  end
  redis.call('HSET', po, pid, tstr .. '\t' .. cid .. '\t' .. sig .. author)
  redis.call('EXPIRE', po, ttl)
  local bt = prefix .. ':bt:' .. s
  local entry = tstr .. ' ' .. pid
  if in_order then
    local args = {}
    for i = 1, #fields do
      args[2 * i - 1] = fields[i]
      args[2 * i] = entry
    end
    redis.call('HSET', bt, unpack(args))
  else
    local values = redis.call('HMGET', bt, unpack(fields))
    for i = 1, #fields do
      local v = values[i]
      if (not v) or split_entry(v) <= t then
        redis.call('HSET', bt, fields[i], entry)
      end
    end
  end
  redis.call('EXPIRE', bt, ttl)
end

local cp = prefix .. ':cp:' .. cid
local ca = prefix .. ':ca:' .. cid
local cr = prefix .. ':cr:' .. cid .. ':' .. author
if redis.call('EXISTS', cp) == 0 then
  if not match then
    -- A post alone (a new cluster, or a redelivered one): its counts are its own.
    if known then
      return {'ok', cid, 1, 1, 1, tstr, tstr, tstr, tstr}
    end
    return {'ok', cid, 1, 0, 0, tstr, tstr, 'nan', 'nan'}
  end
  -- The second post of a cluster: give it the sorted sets, starting with the post it matched.
  local mid, mt, ma = match[1], match[5], match[4]
  redis.call('ZADD', cp, mt, mid)
  if ma ~= '' then
    redis.call('ZADD', ca, 'GT', mt, ma)
    local mcr = prefix .. ':cr:' .. cid .. ':' .. ma
    redis.call('ZADD', mcr, mt, mid)
    redis.call('EXPIRE', mcr, ttl)
  end
  local mcs = prefix .. ':cs:' .. slice_name(math.floor(match[3] / width))
  redis.call('SADD', mcs, cid)
  redis.call('EXPIRE', mcs, ttl)
end
if not dup then
  local cs = prefix .. ':cs:' .. s
  redis.call('SADD', cs, cid)
  redis.call('EXPIRE', cs, ttl)
end
redis.call('ZADD', cp, tstr, pid)
redis.call('EXPIRE', cp, ttl)
if known then
  redis.call('ZADD', ca, 'GT', tstr, author)
  redis.call('ZADD', cr, tstr, pid)
  redis.call('EXPIRE', ca, ttl)
  redis.call('EXPIRE', cr, ttl)
end
local size = trim(cid)
local first = redis.call('ZRANGE', cp, 0, 0, 'WITHSCORES')[2]
local last = redis.call('ZRANGE', cp, -1, -1, 'WITHSCORES')[2]
if not known then
  return {'ok', cid, size, redis.call('ZCARD', ca), 0, first, last, 'nan', 'nan'}
end
redis.call('ZREMRANGEBYSCORE', cr, '-inf', bound)
return {
  'ok', cid, size, redis.call('ZCARD', ca), redis.call('ZCARD', cr), first, last,
  redis.call('ZRANGE', cr, 0, 0, 'WITHSCORES')[2], redis.call('ZRANGE', cr, -1, -1, 'WITHSCORES')[2],
}
"""

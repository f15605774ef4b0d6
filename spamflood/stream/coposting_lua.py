"""The Redis co-posting network's server-side script (Lua): one post, one atomic step.

It is :class:`spamflood.stream.coposting.CoPosting` kept in Redis, step for step (the same
pairing, occasions, edge rule, union-find groups, cached group posts and forgetting), so
that every monitor sharing one Redis grows one network and a memory monitor and a Redis
monitor give the same counts on the same stream. What a post's group is *worth* (its median
occasions, the object its reason names) is worded in Python by
:func:`~spamflood.stream.coposting.group_counts` from the group's state the script returns.

Keys (``C`` is ``<key prefix>:co``; ``k`` a pair key ``<len(a)>:<a><b>`` with ``a < b``
bytewise; ``r`` a group's root account; fields and list items are joined by NUL)::

    C:cfg          the coordination settings of the monitors using the prefix (others refused)
    C:new          the newest post time seen;  C:swept  the newest time at the last sweep
    C:seen         set of the post ids held (a redelivery is counted once)
    C:rank         hash object -> "<1 if a repost>\\0<seq>\\0<as shown>" (C:seq numbers them)
    C:rc:<o>       object o's posts of the last interval, "time\\0slot\\0account\\0paired" joined
                   by \\1 (one read and one write a post, however many it pairs with)
    C:objs         set of the objects with such a list
    C:own:<a>      set of the interval slots account a posted an object in;  C:owners  their accounts
    C:pt:<a>       set of the accounts a co-posted with
    C:ps:<k>       set of the slots of pair k's occasions;  C:po:<k>  hash object -> latest slot
    C:pairs        set of the pair keys;  C:oref  hash object -> pairs that co-posted it
    C:posts:<a>    list of a's posts: "time\\0object\\0object..."
    C:dp C:do C:dr what to forget, in arrival order: "slot\\0account\\0post id", "slot\\0account",
                   "slot\\0pair key"
    C:ed           hash pair key -> "weight\\0object..." (objects sorted): the edges as counted
    C:uf           hash account -> parent (union-find); C:roots  set of the groups' roots
    C:gm:<r>       set of group r's accounts;  C:gw:<r>  hash weight -> edges;
    C:gob:<r>      hash object -> edges that co-posted it
    C:ver          bumped when a group's accounts or objects change or posts are forgotten
    C:gc           hash root -> "ver:sha\\0posts\\0first\\0last": a group's posts, cached (``sha``:
                   SHA-1 of its objects, sorted, as the batch's rule gives them)

Every key is renewed (``ttl``: horizon + two intervals + a margin) when written, and the shared
ones on every call, so what a stopped deployment leaves goes away by itself; within a run
the state is forgotten by event time, as in memory.
"""

from __future__ import annotations

__all__ = ["COPOST"]

COPOST = r"""
-- ARGV: prefix, settings, interval, min_coposts, min_overlap, horizon, ttl, max_neighbours,
--       mode ('add' or 'note'), post id, account, time, then the objects: name, as shown, ...
local C = ARGV[1] .. ':co'
local settings = ARGV[2]
local interval = tonumber(ARGV[3])
local min_coposts = tonumber(ARGV[4])
local min_overlap = tonumber(ARGV[5])
local horizon = tonumber(ARGV[6])
local ttl = tonumber(ARGV[7])
local max_nb = tonumber(ARGV[8])
local mode = ARGV[9]
local pid = ARGV[10]
local account = ARGV[11]
local tstr = ARGV[12]
local t = tonumber(tstr)
local names, shown = {}, {}
for i = 13, #ARGV, 2 do
  names[#names + 1] = ARGV[i]
  shown[#shown + 1] = ARGV[i + 1]
end
local SEP = '\0'
local RS = '\1' -- between the posts of an object's recent list

local K = {
  cfg = C .. ':cfg', new = C .. ':new', swept = C .. ':swept', seq = C .. ':seq', ver = C .. ':ver',
  seen = C .. ':seen', rank = C .. ':rank', objs = C .. ':objs', owners = C .. ':owners', pairs = C .. ':pairs',
  dp = C .. ':dp', dq = C .. ':do', dr = C .. ':dr', ed = C .. ':ed', uf = C .. ':uf', roots = C .. ':roots',
  gc = C .. ':gc', oref = C .. ':oref',
}

local cfg = redis.call('GET', K.cfg)
if not cfg then
  redis.call('SET', K.cfg, settings, 'EX', ttl)
elseif cfg ~= settings then
  return {'config', cfg}
end

local function fmt(x)
  return string.format('%.17g', x)
end

local function int(x)
  return string.format('%d', x)
end

local function split(s, sep)
  sep = sep or SEP
  local out, start = {}, 1
  while true do
    local i = string.find(s, sep, start, true)
    if not i then
      out[#out + 1] = string.sub(s, start)
      return out
    end
    out[#out + 1] = string.sub(s, start, i - 1)
    start = i + 1
  end
end

local function renew(...)
  for _, key in ipairs({...}) do
    redis.call('EXPIRE', key, ttl)
  end
end

-- Bytewise order (Lua's < follows the server's locale), as Python orders accounts.
local function lt(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      return x < y
    end
  end
  return #a < #b
end

local function pkey(a, b)
  if lt(b, a) then
    a, b = b, a
  end
  return #a .. ':' .. a .. b
end

local function unpair(k)
  local c = string.find(k, ':', 1, true)
  local n = tonumber(string.sub(k, 1, c - 1))
  return string.sub(k, c + 1, c + n), string.sub(k, c + n + 1)
end

local function bump()
  redis.call('INCR', K.ver)
end

local function note()
  for i, name in ipairs(names) do
    if redis.call('HEXISTS', K.rank, name) == 0 then
      local seq = redis.call('INCR', K.seq)
      local repost = (string.sub(name, 1, 10) == 'repost of ') and '1' or '0'
      redis.call('HSET', K.rank, name, repost .. SEP .. seq .. SEP .. shown[i])
    end
  end
end

-- ------------------------------------------------------------------ groups (union-find)

local function find(a)
  local root = a
  while true do
    local p = redis.call('HGET', K.uf, root)
    if (not p) or p == root then
      break
    end
    root = p
  end
  while a ~= root do
    local p = redis.call('HGET', K.uf, a)
    if p ~= root then
      redis.call('HSET', K.uf, a, root)
    end
    a = p
  end
  return root
end

local dirty = {} -- groups written in this call, renewed once at its end

local function gkeys(r)
  return C .. ':gm:' .. r, C .. ':gw:' .. r, C .. ':gob:' .. r
end

local function merge(into, from)
  local flat = redis.call('HGETALL', from)
  for i = 1, #flat, 2 do
    redis.call('HINCRBY', into, flat[i], flat[i + 1])
  end
end

local function union(a, b)
  for _, x in ipairs({a, b}) do
    if redis.call('HSETNX', K.uf, x, x) == 1 then
      local gm = gkeys(x)
      redis.call('SADD', gm, x)
      redis.call('EXPIRE', gm, ttl)
      redis.call('SADD', K.roots, x)
    end
  end
  local ra, rb = find(a), find(b)
  if ra == rb then
    return
  end
  local ma, wa, oa = gkeys(ra)
  local mb, wb, ob = gkeys(rb)
  if redis.call('SCARD', ma) < redis.call('SCARD', mb) then
    ra, rb, ma, mb, wa, wb, oa, ob = rb, ra, mb, ma, wb, wa, ob, oa
  end
  redis.call('HSET', K.uf, rb, ra)
  redis.call('SUNIONSTORE', ma, ma, mb)
  merge(wa, wb)
  merge(oa, ob)
  redis.call('DEL', mb, wb, ob)
  redis.call('SREM', K.roots, rb)
  redis.call('HDEL', K.gc, rb)
  dirty[ra] = true
  bump()
end

local function count(k, w, objs)
  local r = find((unpair(k)))
  local _, gw, gob = gkeys(r)
  redis.call('HINCRBY', gw, w, 1)
  for _, name in ipairs(objs) do
    if redis.call('HINCRBY', gob, name, 1) == 1 then
      bump() -- a new object of the group: its posts must be counted again
    end
  end
  dirty[r] = true
end

-- A held edge's new weight and objects, in place of its old ones: what uncounting the old and
-- counting the new would leave, without the round through zero of what both have (the group's
-- objects do not change then, so its cached posts stay right).
local function recount(a, weight, objs, old_weight, old_objs)
  local r = find(a)
  local _, gw, gob = gkeys(r)
  local w = tostring(weight)
  if w ~= old_weight then
    if redis.call('HINCRBY', gw, old_weight, -1) <= 0 then
      redis.call('HDEL', gw, old_weight)
    end
    redis.call('HINCRBY', gw, w, 1)
  end
  local had, has = {}, {}
  for _, name in ipairs(old_objs) do
    had[name] = true
  end
  for _, name in ipairs(objs) do
    has[name] = true
    if not had[name] and redis.call('HINCRBY', gob, name, 1) == 1 then
      bump() -- a new object of the group
    end
  end
  for _, name in ipairs(old_objs) do
    if not has[name] and redis.call('HINCRBY', gob, name, -1) <= 0 then
      redis.call('HDEL', gob, name)
      bump() -- an object the group no longer co-posts
    end
  end
  dirty[r] = true
end

local function held_parts(held)
  local parts = split(held)
  local w = table.remove(parts, 1)
  return w, parts
end

-- The edge rule on pair k, the groups updated; true if an edge was lost (rebuild the groups).
local moved = {} -- pairs whose objects changed in this call (else a held edge's are theirs)
local own_sizes = {} -- each account's occasions, read once per check_all

local function own_size(a)
  local n = own_sizes[a]
  if not n then
    n = redis.call('SCARD', C .. ':own:' .. a)
    own_sizes[a] = n
  end
  return n
end

local function check(k)
  local ps = C .. ':ps:' .. k
  local weight = redis.call('SCARD', ps)
  local held = redis.call('HGET', K.ed, k)
  if weight < min_coposts and not held then
    return false
  end
  local a, b = unpair(k)
  local busier = math.max(own_size(a), own_size(b))
  local strong = weight >= min_coposts and weight >= min_overlap * busier
  if not strong then
    if not held then
      return false
    end
    redis.call('HDEL', K.ed, k)
    return true
  end
  if held and not moved[k] then -- its objects are those held: only its weight may have changed
    local cut = string.find(held, SEP, 1, true)
    if (cut and string.sub(held, 1, cut - 1) or held) == tostring(weight) then
      return false
    end
  end
  local objs = redis.call('HKEYS', C .. ':po:' .. k)
  table.sort(objs)
  local now = tostring(weight)
  for _, name in ipairs(objs) do
    now = now .. SEP .. name
  end
  if held == now then
    return false
  end
  redis.call('HSET', K.ed, k, now)
  if held then -- a held edge joined a and b already: move its weight and objects in their group
    recount(a, weight, objs, held_parts(held))
    return false
  end
  union(a, b)
  count(k, tostring(weight), objs)
  return false
end

local function rebuild()
  for _, r in ipairs(redis.call('SMEMBERS', K.roots)) do
    redis.call('DEL', gkeys(r))
  end
  redis.call('DEL', K.roots, K.uf, K.gc)
  bump()
  local flat = redis.call('HGETALL', K.ed)
  for i = 1, #flat, 2 do
    local k = flat[i]
    local a, b = unpair(k)
    union(a, b)
    count(k, held_parts(flat[i + 1]))
  end
end

-- the pairs whose occasions changed, each once, in the order first touched (for check_all)
local function touched_pairs()
  local touched, seen = {}, {}
  return touched, function(k)
    if not seen[k] then
      seen[k] = true
      touched[#touched + 1] = k
    end
  end
end

local function check_all(touched)
  own_sizes = {}
  local lost = false
  for _, k in ipairs(touched) do
    if check(k) then
      lost = true
    end
  end
  if lost then
    rebuild()
  end
  for r in pairs(dirty) do
    renew(gkeys(r))
  end
  dirty = {}
end

-- ------------------------------------------------------------------ forgetting

local newest = tonumber(redis.call('GET', K.new) or '-inf')

-- One pair fewer co-posts the object.
local function unref(name)
  if redis.call('HINCRBY', K.oref, name, -1) <= 0 then
    redis.call('HDEL', K.oref, name)
  end
end

local function head_slot(list)
  local h = redis.call('LINDEX', list, 0)
  if not h then
    return nil
  end
  return tonumber(string.sub(h, 1, string.find(h, SEP, 1, true) - 1))
end

local function forget()
  local cutoff = math.floor((newest - horizon) / interval)
  local since = cutoff * interval
  local function due(list)
    local s = head_slot(list)
    return s and s < cutoff
  end
  if not (due(K.dp) or due(K.dq) or due(K.dr)) then
    return
  end
  while due(K.dp) do
    local item = split(redis.call('LPOP', K.dp))
    redis.call('SREM', K.seen, item[3])
    local posts = C .. ':posts:' .. item[2]
    while true do
      local h = redis.call('LINDEX', posts, 0)
      if (not h) or tonumber(split(h)[1]) >= since then
        break
      end
      redis.call('LPOP', posts)
    end
    bump() -- a group's posts may have left
  end
  local touched, touch = touched_pairs()
  while due(K.dq) do
    local item = split(redis.call('LPOP', K.dq))
    local own = C .. ':own:' .. item[2]
    if redis.call('EXISTS', own) == 1 then
      redis.call('SREM', own, item[1])
      for _, b in ipairs(redis.call('SMEMBERS', C .. ':pt:' .. item[2])) do
        touch(pkey(item[2], b))
      end
      if redis.call('EXISTS', own) == 0 then
        redis.call('SREM', K.owners, item[2])
      end
    end
  end
  while due(K.dr) do
    local item = split(redis.call('LPOP', K.dr))
    local slot, k = tonumber(item[1]), item[2]
    local ps, po = C .. ':ps:' .. k, C .. ':po:' .. k
    if redis.call('EXISTS', ps) == 1 then
      redis.call('SREM', ps, item[1])
      local flat = redis.call('HGETALL', po)
      local left = {}
      for i = 1, #flat, 2 do
        if tonumber(flat[i + 1]) <= slot then
          redis.call('HDEL', po, flat[i])
          unref(flat[i])
          moved[k] = true
        else
          left[#left + 1] = flat[i]
        end
      end
      touch(k)
      if redis.call('EXISTS', ps) == 0 then
        for _, name in ipairs(left) do
          unref(name)
        end
        redis.call('DEL', po)
        redis.call('SREM', K.pairs, k)
        local a, b = unpair(k)
        redis.call('SREM', C .. ':pt:' .. a, b)
        redis.call('SREM', C .. ':pt:' .. b, a)
      end
    end
  end
  local swept = tonumber(redis.call('GET', K.swept) or '-inf')
  if newest - swept >= horizon then -- once a horizon: objects nobody posts any more
    redis.call('SET', K.swept, fmt(newest))
    for _, name in ipairs(redis.call('SMEMBERS', K.objs)) do
      local rc = C .. ':rc:' .. name
      local blob = redis.call('GET', rc)
      local at = blob and (string.find(blob, RS .. '[^' .. RS .. ']*$') or 0)
      if (not blob) or tonumber(split(string.sub(blob, at + 1))[1]) < since then
        redis.call('DEL', rc)
        redis.call('SREM', K.objs, name)
      end
    end
    local live = {}
    for _, name in ipairs(redis.call('SMEMBERS', K.objs)) do
      live[name] = true
    end
    for _, name in ipairs(redis.call('HKEYS', K.rank)) do -- nor any pair co-posts (C:oref)
      if not live[name] and redis.call('HEXISTS', K.oref, name) == 0 then
        redis.call('HDEL', K.rank, name)
      end
    end
  end
  check_all(touched)
end

-- ------------------------------------------------------------------ a post's counts

local function counts(counted)
  if not redis.call('HGET', K.uf, account) then
    return {'none'}
  end
  local root = find(account)
  local gm, gw, gob = gkeys(root)
  local any_edge = false -- most posts carry none of its edges' objects: one HMGET says so
  for _, v in ipairs(redis.call('HMGET', gob, unpack(names))) do
    if v and tonumber(v) > 0 then
      any_edge = true
    end
  end
  if not any_edge then
    return {'none'}
  end
  -- the group's objects: co-posted by min_overlap of its edges, or by as many as its most
  -- co-posted object (spamflood.coordination.object_floor)
  local weights = redis.call('HGETALL', gw)
  local pairs_n = 0
  for i = 2, #weights, 2 do
    pairs_n = pairs_n + tonumber(weights[i])
  end
  local flat = redis.call('HGETALL', gob)
  local most = 0
  for i = 2, #flat, 2 do
    most = math.max(most, tonumber(flat[i]))
  end
  local least = math.min(min_overlap * pairs_n, most)
  local mine, own = {}, {}
  for i = 1, #flat, 2 do
    local n = tonumber(flat[i + 1])
    if n > 0 and n >= least then
      mine[flat[i]] = true
      own[#own + 1] = flat[i]
    end
  end
  local hit = false
  for _, name in ipairs(names) do
    if mine[name] then
      hit = true
    end
  end
  if not hit then
    return {'none'}
  end
  table.sort(own)
  -- an edge that raises the group's pairs can take an object off it without a version bump
  local ver = (redis.call('GET', K.ver) or '0') .. ':' .. redis.sha1hex(table.concat(own, RS))
  local cached = redis.call('HGET', K.gc, root)
  local posts, first, last
  if cached then
    local c = split(cached)
    if c[1] == ver then
      posts, first, last = tonumber(c[2]), tonumber(c[3]), tonumber(c[4])
      if counted then -- this post, by one of the group's accounts on one of its objects
        posts, first, last = posts + 1, math.min(first, t), math.max(last, t)
      end
    end
  end
  if not posts then -- the posts held of the group's accounts that carry one of its objects
    posts, first, last = 0, 0 / 0, 0 / 0
    for _, a in ipairs(redis.call('SMEMBERS', gm)) do
      for _, p in ipairs(redis.call('LRANGE', C .. ':posts:' .. a, 0, -1)) do
        local parts = split(p)
        for j = 2, #parts do
          if mine[parts[j]] then
            local pt = tonumber(parts[1])
            if posts == 0 then
              first, last = pt, pt
            else
              first, last = math.min(first, pt), math.max(last, pt)
            end
            posts = posts + 1
            break
          end
        end
      end
    end
  end
  redis.call('HSET', K.gc, root, ver .. SEP .. posts .. SEP .. fmt(first) .. SEP .. fmt(last))
  local objects = {}
  for i = 1, #flat, 2 do
    if mine[flat[i]] then
      objects[#objects + 1] = flat[i]
      objects[#objects + 1] = flat[i + 1]
      objects[#objects + 1] = redis.call('HGET', K.rank, flat[i]) or ''
    end
  end
  renew(gm, gw, gob)
  return {'g', redis.call('SCARD', gm), posts, fmt(first), fmt(last), weights, objects}
end

local function renew_shared()
  for _, key in pairs(K) do
    redis.call('EXPIRE', key, ttl)
  end
end

-- ------------------------------------------------------------------ the post

if mode == 'note' then
  note()
  renew_shared()
  return {'none'}
end
if redis.call('SISMEMBER', K.seen, pid) == 1 then -- a redelivery: counted once
  local out = counts(false)
  renew_shared()
  return out
end
if t > newest then
  newest = t
  redis.call('SET', K.new, tstr)
end
forget()
note()
local slot = math.floor(t / interval)
local s = int(slot)
redis.call('SADD', K.seen, pid)
local mine = C .. ':posts:' .. account
redis.call('RPUSH', mine, tstr .. SEP .. table.concat(names, SEP))
redis.call('RPUSH', K.dp, s .. SEP .. account .. SEP .. pid)
local touched, touch = touched_pairs()
local own = C .. ':own:' .. account
local partners = C .. ':pt:' .. account
if redis.call('SADD', own, s) == 1 then
  redis.call('SADD', K.owners, account)
  redis.call('RPUSH', K.dq, s .. SEP .. account)
  for _, b in ipairs(redis.call('SMEMBERS', partners)) do
    touch(pkey(account, b))
  end
end
renew(mine, own)
for _, name in ipairs(names) do
  local rc = C .. ':rc:' .. name
  local blob = redis.call('GET', rc)
  local recent = blob and split(blob, RS) or {}
  local kept = {}
  local first = 1
  while first <= #recent and tonumber(split(recent[first])[1]) < t - interval do
    first = first + 1
  end
  for i = first, #recent do
    local e = split(recent[i])
    local etime, paired, other = tonumber(e[1]), tonumber(e[4]), e[3]
    if paired < max_nb and math.abs(t - etime) <= interval then
      e[4] = int(paired + 1)
      if other ~= account then
        local k = pkey(other, account)
        local ps, po = C .. ':ps:' .. k, C .. ':po:' .. k
        local at = (etime <= t) and e[2] or s
        if redis.call('SADD', ps, at) == 1 then -- a new occasion of the pair
          redis.call('RPUSH', K.dr, at .. SEP .. k)
          if redis.call('SCARD', ps) == 1 then -- a new pair
            local theirs = C .. ':pt:' .. other
            redis.call('SADD', K.pairs, k)
            redis.call('SADD', theirs, account)
            redis.call('SADD', partners, other)
            renew(theirs) -- then each time its account posts, as this one's below: an account
            -- that posted within the interval keeps its partners longer than its pairs last
          end
          renew(ps)
        end
        local cur = redis.call('HGET', po, name)
        if (not cur) or tonumber(cur) < tonumber(at) then
          redis.call('HSET', po, name, at)
          if not cur then
            redis.call('HINCRBY', K.oref, name, 1)
          end
          moved[k] = true
          redis.call('EXPIRE', po, ttl)
        end
        touch(k)
      end
    end
    kept[#kept + 1] = table.concat(e, SEP)
  end
  kept[#kept + 1] = tstr .. SEP .. s .. SEP .. account .. SEP .. '0'
  redis.call('SET', rc, table.concat(kept, RS), 'EX', ttl)
  if not blob then
    redis.call('SADD', K.objs, name)
  end
end
renew(partners)
check_all(touched)
local out = counts(true)
renew_shared()
return out
"""

// The Lua scripts that make publishing and snapshotting atomic on the Redis
// server. Each touches only one partition's keys, which share a hash tag,
// so they also run on Redis Cluster.

/**
 * Appends a batch only if it is the origin's next one. A publish retried
 * after a lost reply finds its counters already in `heads` and is answered
 * as a duplicate instead of being appended twice; a batch whose
 * predecessors are missing (the server lost them) is refused with the head
 * it has, so the publisher can send them again first. Counters are 64-bit:
 * they travel and are compared as decimal strings (Lua numbers are doubles),
 * and the publisher sends `prev` = first - 1 so no arithmetic is needed here.
 * KEYS: log, heads. ARGV: origin, prev, last, entry, and its tag when the table authenticates entries.
 * Returns {1, id} appended, {0, head} already there, {-1, head} gap.
 */
export const PUBLISH_SCRIPT = `
local head = redis.call('HGET', KEYS[2], ARGV[1]) or '0'
if not string.match(head, '^%d+$') then return redis.error_reply('ATOMIK heads holds a counter that is not a number') end
local last = ARGV[3]
if #last < #head or (#last == #head and last <= head) then return {0, head} end
if head ~= ARGV[2] then return {-1, head} end
local id
if ARGV[5] then id = redis.call('XADD', KEYS[1], '*', 'd', ARGV[4], 't', ARGV[5])
else id = redis.call('XADD', KEYS[1], '*', 'd', ARGV[4]) end
redis.call('HSET', KEYS[2], ARGV[1], last)
return {1, id}
`;

/**
 * Stores a snapshot unless a newer one exists, keeps the newest `keep`, and
 * trims the log to the entries after the oldest one kept: everything up to
 * that position is in every retained snapshot.
 * KEYS: snapshot positions (list, newest first), snapshot blobs (hash),
 * delivery records (hash), trim point (string), log.
 * ARGV: position, blob, record, keep. Returns 1 stored, 0 not newer.
 */
export const SNAPSHOT_SCRIPT = `
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function newer(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am > bm or (am == bm and as > bs)
end
local pos = ARGV[1]
local newest = redis.call('LINDEX', KEYS[1], 0)
if newest and not newer(pos, newest) then return 0 end
redis.call('LPUSH', KEYS[1], pos)
redis.call('HSET', KEYS[2], pos, ARGV[2])
redis.call('HSET', KEYS[3], pos, ARGV[3])
local keep = tonumber(ARGV[4])
while redis.call('LLEN', KEYS[1]) > keep do
  local old = redis.call('RPOP', KEYS[1])
  redis.call('HDEL', KEYS[2], old)
  redis.call('HDEL', KEYS[3], old)
end
local oldest = redis.call('LINDEX', KEYS[1], -1)
local ms, seq = parse(oldest)
redis.call('XTRIM', KEYS[5], 'MINID', string.format('%d-%d', ms, seq + 1))
redis.call('SET', KEYS[4], oldest)
return 1
`;

/**
 * Retires an origin on one partition: its head moves from `heads` to
 * `retired` (as "counter@unix-seconds"), so a publish under it is refused
 * from now on (answered as a gap), and snapshot writers may drop it from
 * delivery records once they hold all of its batches.
 * KEYS: heads, retired. ARGV: origin.
 * Returns the origin's last counter, or false when it never published here.
 */
export const RETIRE_SCRIPT = `
local head = redis.call('HGET', KEYS[1], ARGV[1])
if head then
  redis.call('HSET', KEYS[2], ARGV[1], head .. '@' .. redis.call('TIME')[1])
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return head
`;

/**
 * Reads the newest snapshot's position and blob in one step (a snapshot
 * stored between two separate reads would replace the one listed).
 * KEYS: snapshot positions, snapshot blobs. Returns {position, blob} or nil.
 */
export const NEWEST_SNAPSHOT_SCRIPT = `
local position = redis.call('LINDEX', KEYS[1], 0)
if not position then return nil end
return {position, redis.call('HGET', KEYS[2], position)}
`;

/**
 * Reads the trim point and the delivery record stored with it in one step:
 * read apart, a snapshot stored between the two reads replaces the record
 * and a replica could not tell what the trim removed.
 * KEYS: trim point, delivery records. ARGV: the trim point the caller
 * checked last ('' for none).
 * Returns nil (never trimmed), {trim} (unchanged) or {trim, record|false}.
 */
export const TRIM_POINT_SCRIPT = `
local trim = redis.call('GET', KEYS[1])
if not trim then return nil end
if trim == ARGV[1] then return {trim} end
return {trim, redis.call('HGET', KEYS[2], trim)}
`;

/**
 * Hands out an origin id: the next value of the origins counter that no
 * live replica holds, claimed with this replica's first heartbeat. A
 * counter that went back (a Redis failover or restart that lost its last
 * increments) thus never gives a live replica's id to a second one. The id
 * is answered as text (GET): exact past 2^53, where a Lua number is not.
 * KEYS: origins counter, heartbeats. ARGV: the first heartbeat.
 */
export const CLAIM_ORIGIN_SCRIPT = `
local id
repeat
  redis.call('INCR', KEYS[1])
  id = redis.call('GET', KEYS[1])
until redis.call('HSETNX', KEYS[2], id, ARGV[1]) == 1
return id
`;

/**
 * The Lua scripts of the store: each is one atomic step on the server, so a replica that crashes or
 * times out between two commands never leaves a lock it does not own deleted, or a notice unsent.
 * Keys of one cache key share a hash tag (`{name}`), so each script touches one cluster slot.
 */

/** KEYS[1] lock; ARGV[1] owner, ARGV[2] ttl ms → {1} taken, or {0, remaining ttl ms}. */
export const LOCK = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {0, redis.call('PTTL', KEYS[1])}`

/**
 * KEYS[1] token, KEYS[2] lock; ARGV[1] record, ARGV[2] ttl ms, ARGV[3] owner or '', ARGV[4] channel,
 * ARGV[5] notice. Writes the record, releases the lock if ARGV[3] holds it, publishes the notice.
 */
export const SET_AND_RELEASE = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`

/** KEYS[1] lock; ARGV[1] owner, ARGV[2] channel, ARGV[3] notice → 1 released (and notice sent), 0 not. */
export const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0`

/** KEYS[1] token; ARGV[1] the record read, ARGV[2] channel, ARGV[3] notice → 1 dropped (and notice sent), 0 not. */
export const COMPARE_AND_DELETE = UNLOCK

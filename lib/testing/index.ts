// atomik-node/testing: a private redis-server for tests and examples of
// replicated tables (started on a free port in a temporary directory).
// Virtual boards for hardware-in-the-loop tests are in atomik-node/board.
export { startRedisServer, redisServerMissing, type LocalRedisServer, type RedisServerOptions } from './redis-server.js';
export { startRedisCluster, type LocalRedisCluster, type RedisClusterOptions } from './redis-cluster.js';

// Throwaway servers for tests and benchmarks of the PostgreSQL and JetStream stores: a private
// PostgreSQL on a free loopback port, one nats-server or a three-node cluster with JetStream. Each
// installs its server with apt-get when it is missing and stops it by its pid. Not loaded by the
// stores themselves; import '@ringside/storage/testing' only from test code. Also: making a
// file really read-only for a test (`makeReadOnly`).

export { freshSchema, startPgServer, type PgServer } from './pg-server.js'
export { NatsNode, ensureNatsServer, freePort, startNatsCluster, startNatsServer, waitForJetStream } from './nats-server.js'
export { makeReadOnly } from './read-only.js'

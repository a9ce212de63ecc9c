// For drills, soaks and tests: the fault-injection store (FaultyStore, named by
// FAULTY_STORE_TARGET), and throwaway servers for the PostgreSQL and JetStream stores: a private
// PostgreSQL on a free loopback port, one nats-server or a three-node cluster with JetStream. Each
// server is installed with apt-get when it is missing and stopped by its pid. Not loaded by the
// stores themselves; import '@ringside/storage/testing' only from test and drill code. Also:
// making a file really read-only for a test (`makeReadOnly`).

export { FAULTY_STORE_TARGET, FaultyStoreControl, createFaultyStore, type FaultMode, type FaultyStoreOptions } from '../faulty-store.js'
export { freshSchema, startPgServer, type PgServer } from './pg-server.js'
export { NatsNode, ensureNatsServer, freePort, startNatsCluster, startNatsServer, waitForJetStream } from './nats-server.js'
export { makeReadOnly } from './read-only.js'

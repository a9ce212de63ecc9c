// The NATS JetStream adapter of the EventStore contract: the store, its options and its errors.
// `createStore` wires `{ kind: 'jetstream', ... }` specs to `JetStreamStore.open`.

export { JetStreamStore, type JetStreamStats } from './jetstream-store.js'
export {
  JETSTREAM_DEFAULTS,
  resolveJetStreamOptions,
  type JetStreamStorage,
  type JetStreamStoreOptions,
  type ResolvedJetStreamOptions,
} from './options.js'
export { JetStreamUnsupportedError } from './jetstream-errors.js'

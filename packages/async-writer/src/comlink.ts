// '@ringside/async-writer/comlink': comlink for Node worker threads, for the pool and its writers.
// comlink ships UMD (CommonJS) builds, so Node's ESM loader sees only a default export; its node
// adapter turns a MessagePort into comlink's Endpoint.
import comlinkDefault from 'comlink'
import nodeAdapter from 'comlink/dist/umd/node-adapter.js'
import type { Endpoint } from 'comlink'
import type { MessagePort } from 'node:worker_threads'

export const Comlink = comlinkDefault
type NodeEndpointFn = (port: MessagePort) => Endpoint
/** comlink's Endpoint over a Node MessagePort (or Worker / parentPort). */
export const nodeEndpoint: NodeEndpointFn =
  ((nodeAdapter as unknown as { default?: NodeEndpointFn }).default ?? (nodeAdapter as unknown as NodeEndpointFn))

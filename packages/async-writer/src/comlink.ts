// '@ringside/async-writer/comlink': comlink for Node worker threads, for the pool and its writers.
// comlink ships UMD (CommonJS) builds, so Node's ESM loader sees only a default export; its node
// adapter turns a MessagePort into comlink's Endpoint. Errors thrown across a comlink call keep
// their `code` and causes (comlink alone sends name, message, stack).
import comlinkDefault from 'comlink'
import nodeAdapter from 'comlink/dist/umd/node-adapter.js'
import type { Endpoint, TransferHandler } from 'comlink'
import type { MessagePort } from 'node:worker_threads'
import { RemoteWriterError, serializeError, type SerializedError } from './errors.js'

export const Comlink = comlinkDefault
type NodeEndpointFn = (port: MessagePort) => Endpoint
/** comlink's Endpoint over a Node MessagePort (or Worker / parentPort). */
export const nodeEndpoint: NodeEndpointFn =
  ((nodeAdapter as unknown as { default?: NodeEndpointFn }).default ?? (nodeAdapter as unknown as NodeEndpointFn))

// Replaces comlink's "throw" handler in every thread that loads this module (the writer and its
// pool alike): same protocol, an Error now travels as a SerializedError and is rebuilt as a
// RemoteWriterError with its code. Anything thrown that is not an Error goes as comlink sends it.
type Thrown = { isError: true; value: SerializedError } | { isError: false; value: unknown }
const builtIn = Comlink.transferHandlers.get('throw') as TransferHandler<unknown, Thrown>
Comlink.transferHandlers.set('throw', {
  canHandle: (v: unknown): v is unknown => builtIn.canHandle(v),
  serialize(v: unknown): ReturnType<typeof builtIn.serialize> {
    const { value } = v as { value: unknown }
    return value instanceof Error ? [{ isError: true, value: serializeError(value) }, []] : builtIn.serialize(v)
  },
  deserialize(t: Thrown): unknown {
    if (t.isError) throw new RemoteWriterError(t.value)
    throw t.value
  },
} satisfies TransferHandler<unknown, Thrown>)

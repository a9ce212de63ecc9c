// The encoding of events in the ring: a tagged binary form of JSON values with JSON.stringify's
// semantics, written by the producer (codec/encode.ts) and read by consumers (codec/decode.ts).

export { ENC_INVALID_EVENT, ENC_NOT_SERIALIZABLE, ENC_TOO_LARGE, encodeEvent } from './codec/encode.js'
export { decodeEvent } from './codec/decode.js'
export { MAX_DEPTH } from './codec/tags.js'

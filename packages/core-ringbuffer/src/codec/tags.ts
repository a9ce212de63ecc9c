// The tags of Ringside's binary encoding of JSON values: one byte before each value.

export const T_NULL = 0
export const T_FALSE = 1
export const T_TRUE = 2
export const T_INT = 3 // int32, little-endian
export const T_F64 = 4 // float64, little-endian
export const T_STR = 5 // varint byte length (possibly padded), UTF-8 bytes
export const T_ARR = 6 // values ..., T_END
export const T_OBJ = 7 // (T_STR or T_WSTR key, value) ..., T_END: keys carry a tag so a key's length byte is never read as T_END
export const T_END = 8
export const T_WSTR = 9 // as T_STR, but WTF-8: the string holds lone surrogates, which UTF-8 cannot carry and JSON keeps
// A record: a plain object whose keys come first, as one block, then its values in key order.
// T_REC, shape hash (u32 LE, a hint for the decoder's cache), key count (u8), count keys (T_STR or
// T_WSTR strings), count values (a value or T_SKIP). Written for objects whose key list repeats, so
// the block is a constant per shape on both sides (codec/shapes.ts, codec/decode-shapes.ts).
export const T_REC = 10
export const T_SKIP = 11 // in a record's values only: JSON skips this member (undefined, a function, a symbol)

/** Deepest nesting accepted; deeper values (and cycles) are not serializable. */
export const MAX_DEPTH = 64

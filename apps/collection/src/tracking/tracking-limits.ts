/** Segment's limits, checked on the decompressed JSON: one call, and one batch request. */
export const MAX_CALL_BYTES = 32 * 1024;
export const MAX_BATCH_BYTES = 500 * 1024;
/** Bytes accepted on the wire (compressed or not) before decompression is even tried. */
export const MAX_WIRE_BYTES = 1024 * 1024;
/** Deeper JSON is refused before schema checks walk it (Postgres jsonb and recursion both have limits). */
export const MAX_JSON_DEPTH = 64;

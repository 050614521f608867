/** Every size, count and time limit of the wire surfaces, in one place. */
export const Limits = {
  /** Largest JSON request body the HTTP API accepts. */
  jsonBodyBytes: 1024 * 1024,
  /** Largest uploaded application package (.tar.gz / .zip), as sent. */
  packageBytes: 64 * 1024 * 1024,
  /** Largest total size of a package's files once extracted. */
  packageExtractedBytes: 256 * 1024 * 1024,
  /** Most entries (files and folders) a package may hold. */
  packageEntries: 2000,
  /** Largest manifest.yaml. */
  manifestBytes: 64 * 1024,
  /** Default timeout of a request between roles (PROTOCOL.md §7). */
  rpcTimeoutMs: 5000,
  /** Longest `GET /ams/1.0/operations/{id}/wait?timeout=` in seconds. */
  operationWaitMaxSeconds: 300,
  /** Page size ceiling for list routes. */
  listLimitMax: 1000,
  /** Largest application version: the column is a PostgreSQL integer. */
  versionMax: 2 ** 31 - 1,
  /** Largest list offset: an integer the databases (64-bit) and JavaScript (53-bit) both hold exactly. */
  listOffsetMax: Number.MAX_SAFE_INTEGER,
  /** How often a node tells AMS it is alive; AMS counts one missing after two of these. */
  nodeHeartbeatMs: 10_000,
  /** How often an agent registers again with the gateway (its heartbeat). */
  agentHeartbeatMs: 10_000,
  /** Screen bounds of sessions and instances (PROTOCOL.md §3). */
  screen: { maxWidth: 3840, maxHeight: 2160, minFps: 1, maxFps: 60, minDensity: 72 },
} as const;

/**
 * What one chat request did, filled in as it goes through the server and handed to every
 * recorder (usage log, metrics) when it ends. Recorders must not block: they queue.
 */
export interface RequestRecord {
  requestId: string
  /** Epoch milliseconds when the request arrived. */
  startedAt: number
  keyId: string | undefined
  keyName: string | undefined
  /** The model name the client asked for. */
  model: string | undefined
  /** The catalog model it resolved to. */
  modelId: string | undefined
  provider: string | undefined
  upstreamModel: string | undefined
  stream: boolean
  status: number
  errorType: string | undefined
  errorCode: string | undefined
  promptTokens: number
  completionTokens: number
  cachedTokens: number
  /** Token counts were estimated because the upstream reported none. */
  usageEstimated: boolean
  /** In the currency of the model's `costs`. */
  cost: number
  latencyMs: number
  /** Time to the first streamed chunk, for streams. */
  ttftMs: number | undefined
  attempts: number
  cacheHit: boolean
  metadata: Record<string, string> | undefined
}

export interface RequestRecorder {
  record(record: RequestRecord): void
}

export function emptyRecord(requestId: string, startedAt: number): RequestRecord {
  return {
    requestId,
    startedAt,
    keyId: undefined,
    keyName: undefined,
    model: undefined,
    modelId: undefined,
    provider: undefined,
    upstreamModel: undefined,
    stream: false,
    status: 0,
    errorType: undefined,
    errorCode: undefined,
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    usageEstimated: false,
    cost: 0,
    latencyMs: 0,
    ttftMs: undefined,
    attempts: 0,
    cacheHit: false,
    metadata: undefined,
  }
}

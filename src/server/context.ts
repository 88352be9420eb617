/** What one HTTP request carries through the server, and what its access-log line reports. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ClientKey } from '../auth/keys.ts'
import type { RequestRecord } from '../core/request-record.ts'

export interface RequestContext {
  id: string
  request: IncomingMessage
  response: ServerResponse
  /**
   * Headers every response to this request carries (`x-request-id`, rate-limit headers). They go
   * out in the one `writeHead` that sends the answer: no `setHeader` before it.
   */
  headers: Record<string, string>
  /** `performance.now()` when the request arrived. */
  startedAt: number
  key: ClientKey | undefined
  /** Set by handlers whose requests are recorded (usage log, metrics). */
  record: RequestRecord | undefined
  /** Fields the access log reports besides method, path, status and latency. */
  log: {
    model?: string
    provider?: string
    upstream_model?: string
    attempts?: number
    stream?: boolean
    error_code?: string
    ttfb_ms?: number
    cache?: 'hit'
  }
}

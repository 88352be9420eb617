/** Config fields shared by every provider reached over HTTP, and the transport they build. */
import { z } from 'zod'
import { createHttpTransport, defaultHttpTimeouts } from '../upstream/http-transport.ts'
import type { Transport } from '../upstream/transport.ts'

export const httpProviderFields = {
  base_url: z.url({ protocol: /^https?$/ }),
  api_key: z.string().optional(),
  /** Extra headers sent upstream on every request (e.g. an organisation id). */
  headers: z.record(z.string(), z.string()).optional(),
  timeouts: z
    .strictObject({
      connect_ms: z.number().int().positive().optional(),
      first_byte_ms: z.number().int().positive().optional(),
      idle_ms: z.number().int().positive().optional(),
    })
    .optional(),
  /** Upper bound of pooled keep-alive connections to this upstream. */
  max_connections: z.number().int().positive().optional(),
}

const httpProviderSchema = z.object(httpProviderFields)
export type HttpProviderConfig = z.infer<typeof httpProviderSchema>

export function createTransportFor(config: HttpProviderConfig): Transport {
  return createHttpTransport({
    origin: splitBaseUrl(config.base_url).origin,
    connectTimeoutMs: config.timeouts?.connect_ms ?? defaultHttpTimeouts.connectTimeoutMs,
    firstByteTimeoutMs: config.timeouts?.first_byte_ms ?? defaultHttpTimeouts.firstByteTimeoutMs,
    idleTimeoutMs: config.timeouts?.idle_ms ?? defaultHttpTimeouts.idleTimeoutMs,
    maxConnections: config.max_connections,
  })
}

/** Splits a base URL into the origin the pool dials and the path prefix requests go under. */
export function splitBaseUrl(baseUrl: string): {
  origin: string
  pathPrefix: string
  query: string
} {
  const url = new URL(baseUrl)
  return { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, ''), query: url.search }
}

/**
 * The HTTP transport: one set of pooled keep-alive connections per provider, so each provider gets
 * its own connect, first-byte and between-chunk timeouts. A provider's requests all go to its base
 * URL's origin, so that origin gets an undici `Pool` of its own, dispatched to directly: an `Agent`
 * in front of it costs every request a second dispatch layer and a lookup of the origin by name.
 * A request to any other origin goes through an `Agent`, made when one first comes.
 */

import { GatewayError } from '../core/errors.ts'
import type { UpstreamRequest } from '../providers/types.ts'
import type { Transport, UpstreamResponse } from './transport.ts'
import { Agent, Pool, errors as undiciErrors } from './undici.ts'
import { UpstreamExchange } from './upstream-exchange.ts'

export interface HttpTransportOptions {
  /** The origin (`https://host:port`) most requests go to: it gets a pool of its own. */
  origin?: string | undefined
  connectTimeoutMs: number
  firstByteTimeoutMs: number
  idleTimeoutMs: number
  maxConnections: number | undefined
}

export const defaultHttpTimeouts = {
  connectTimeoutMs: 10_000,
  firstByteTimeoutMs: 120_000,
  idleTimeoutMs: 60_000,
} as const

export function createHttpTransport(options: HttpTransportOptions): Transport {
  const settings = {
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.firstByteTimeoutMs,
    bodyTimeout: options.idleTimeoutMs,
    keepAliveTimeout: 30_000,
    ...(options.maxConnections === undefined ? {} : { connections: options.maxConnections }),
  }
  const { origin } = options
  const pool = origin === undefined ? undefined : new Pool(origin, settings)
  let agent: Agent | undefined
  const dispatcherFor = (requestOrigin: string): Pool | Agent => {
    if (pool !== undefined && requestOrigin === origin) return pool
    agent ??= new Agent(settings)
    return agent
  }

  return {
    send(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
      const dispatcher = dispatcherFor(request.origin)
      const toError = (error: unknown) => toGatewayError(error, request.origin)
      return new Promise((resolve, reject) => {
        dispatcher.dispatch(
          {
            origin: request.origin,
            path: request.path,
            method: request.method,
            headers: request.headers,
            body: request.method === 'GET' ? null : request.body,
          },
          new UpstreamExchange(signal, toError, resolve, reject),
        )
      })
    },
    async close() {
      await Promise.all([pool?.close(), agent?.close()])
    },
  }
}

/** Network failures become gateway errors that name the upstream host but nothing secret. */
export function toGatewayError(error: unknown, origin: string): GatewayError {
  if (error instanceof GatewayError) return error
  const host = safeHost(origin)
  if (error instanceof undiciErrors.HeadersTimeoutError) {
    return new GatewayError('upstream_timeout', `Upstream ${host} did not answer in time`)
  }
  if (error instanceof undiciErrors.BodyTimeoutError) {
    return new GatewayError('upstream_timeout', `Upstream ${host} stopped sending data`)
  }
  if (error instanceof undiciErrors.ConnectTimeoutError) {
    return new GatewayError('upstream_timeout', `Connecting to upstream ${host} timed out`)
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return new GatewayError('upstream_error', 'Upstream request aborted', { cause: error })
  }
  const code = (error as { code?: unknown } | null)?.code
  const detail = typeof code === 'string' ? ` (${code})` : ''
  return new GatewayError('upstream_unreachable', `Upstream ${host} is unreachable${detail}`, {
    cause: error,
  })
}

function safeHost(origin: string): string {
  try {
    return new URL(origin).host
  } catch {
    return 'upstream'
  }
}

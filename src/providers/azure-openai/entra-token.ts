/**
 * Microsoft Entra ID tokens for Azure OpenAI. One token serves every request. It is fetched again
 * ahead of its expiry (in the background while it is still valid, at most one fetch at a time),
 * and a 401 from Azure drops it, so the request that met the 401 is sent once more with a new one
 * (`withEntraToken`). Three ways to get one:
 *
 * - client credentials: a service principal's client id and secret, posted to the tenant's token
 *   endpoint (OAuth 2.0 client-credentials grant);
 * - workload identity federation (AKS and other OIDC issuers): the same grant with a signed
 *   assertion instead of a secret, read from `federated_token_file` at every fetch, since the
 *   platform rotates it;
 * - managed identity: a GET to the host's identity endpoint, the Azure Instance Metadata Service
 *   (`Metadata: true`) or, given `identity_header`, App Service's and Container Apps' endpoint
 *   (`X-IDENTITY-HEADER`).
 */

import { GatewayError } from '../../core/errors.ts'
import type { Transport, UpstreamResponse } from '../../upstream/transport.ts'
import { loadRequest } from '../../upstream/undici.ts'
import type { UpstreamRequest } from '../types.ts'
import { scrubSecrets } from '../upstream-error.ts'
import { type EntraConfig, parseTokenAnswer, tokenRequest } from './token-request.ts'

export interface TokenSource {
  token(): Promise<string>
  /** Drops `token` if it is still the current one: Azure refused it. */
  invalidate(token: string): void
}

interface Held {
  token: string
  /** From here on a request still gets this token but starts fetching the next one. */
  refreshAt: number
  expiresAt: number
}

const fetchTimeoutMs = 10_000
/** Refresh this long before expiry, or at half the lifetime for short-lived tokens. */
const refreshMarginMs = 5 * 60_000

export function createEntraTokenSource(
  config: EntraConfig,
  now: () => number = Date.now,
): TokenSource {
  const ask = tokenRequest(config)
  let held: Held | undefined
  let fetching: Promise<string> | undefined

  async function fetchToken(): Promise<string> {
    const body = await ask.body?.()
    const request = await loadRequest()
    let status: number
    let text: string
    try {
      const response = await request(ask.url, {
        method: ask.method,
        headers: ask.headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(fetchTimeoutMs),
      })
      status = response.statusCode
      text = await response.body.text()
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code
      const detail = typeof code === 'string' ? ` (${code})` : ''
      throw new GatewayError(
        'upstream_unreachable',
        `${ask.issuer} did not issue an Azure token${detail}`,
      )
    }
    const issuedAt = now()
    const answer = parseTokenAnswer(text, issuedAt)
    if (status !== 200 || answer.token === undefined) {
      const reason = scrubSecrets(answer.error ?? `status ${status}`, ask.secrets())
      throw new GatewayError(
        'upstream_auth',
        `${ask.issuer} refused the gateway's Azure credentials: ${reason}`,
      )
    }
    const lifetimeMs = answer.expiresInSeconds * 1000
    held = {
      token: answer.token,
      expiresAt: issuedAt + lifetimeMs,
      refreshAt: issuedAt + lifetimeMs - Math.min(refreshMarginMs, lifetimeMs / 2),
    }
    return answer.token
  }

  function refresh(): Promise<string> {
    fetching ??= fetchToken().finally(() => {
      fetching = undefined
    })
    return fetching
  }

  return {
    async token() {
      const current = held
      const at = now()
      if (current !== undefined && at < current.refreshAt) return current.token
      if (current !== undefined && at < current.expiresAt) {
        // Still valid: this request uses it; the next ones will find the new one.
        refresh().catch(() => {})
        return current.token
      }
      return refresh()
    },
    invalidate(token) {
      if (held?.token === token) held = undefined
    },
  }
}

/**
 * A transport that sends every request with `authorization: Bearer <token>`. A 401 drops the
 * token and sends the request once more with a fresh one: a token revoked or rotated early.
 */
export function withEntraToken(transport: Transport, tokens: TokenSource): Transport {
  const send = async (request: UpstreamRequest, signal: AbortSignal, token: string) =>
    transport.send(
      { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } },
      signal,
    )
  return {
    async send(request, signal): Promise<UpstreamResponse> {
      const token = await tokens.token()
      const response = await send(request, signal, token)
      if (response.status !== 401) return response
      await response.text().catch(() => '')
      tokens.invalidate(token)
      return send(request, signal, await tokens.token())
    },
    close: () => transport.close(),
  }
}

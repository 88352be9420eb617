/**
 * Microsoft Entra ID tokens for Azure OpenAI by the OAuth 2.0 client-credentials grant: a service
 * principal's client id and secret buy a bearer token for the Cognitive Services scope. One token
 * serves every request. It is fetched again ahead of its expiry (in the background while it is
 * still valid, at most one fetch at a time), and a 401 from Azure drops it, so the request that
 * met the 401 is sent once more with a new one (`withEntraToken`).
 */
import { GatewayError } from '../../core/errors.ts'
import type { Transport, UpstreamResponse } from '../../upstream/transport.ts'
import { loadRequest } from '../../upstream/undici.ts'
import type { UpstreamRequest } from '../types.ts'
import { scrubSecrets } from '../upstream-error.ts'

export interface EntraConfig {
  tenant_id: string
  client_id: string
  client_secret: string
  scope: string
  authority_host: string
}

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
  const authority = config.authority_host.replace(/\/+$/, '')
  const url = `${authority}/${encodeURIComponent(config.tenant_id)}/oauth2/v2.0/token`
  const host = new URL(url).host
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: config.client_id,
    client_secret: config.client_secret,
    scope: config.scope,
  }).toString()
  let held: Held | undefined
  let fetching: Promise<string> | undefined

  async function fetchToken(): Promise<string> {
    const request = await loadRequest()
    let status: number
    let text: string
    try {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
        signal: AbortSignal.timeout(fetchTimeoutMs),
      })
      status = response.statusCode
      text = await response.body.text()
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code
      const detail = typeof code === 'string' ? ` (${code})` : ''
      throw new GatewayError(
        'upstream_unreachable',
        `Microsoft Entra ID (${host}) did not issue an Azure token${detail}`,
      )
    }
    const answer = parseTokenAnswer(text)
    if (status !== 200 || answer.token === undefined) {
      const reason = scrubSecrets(answer.error ?? `status ${status}`, [config.client_secret])
      throw new GatewayError(
        'upstream_auth',
        `Microsoft Entra ID (${host}) refused the gateway's Azure credentials: ${reason}`,
      )
    }
    const issuedAt = now()
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

/** The token endpoint's JSON: `access_token` and `expires_in`, or `error` and its description. */
function parseTokenAnswer(text: string): {
  token?: string
  expiresInSeconds: number
  error?: string | undefined
} {
  let body: Record<string, unknown>
  try {
    body = (JSON.parse(text) ?? {}) as Record<string, unknown>
  } catch {
    return { expiresInSeconds: 0, error: 'the answer is not JSON' }
  }
  const expiresIn = Number(body.expires_in)
  if (typeof body.access_token === 'string' && Number.isFinite(expiresIn) && expiresIn > 0) {
    return { token: body.access_token, expiresInSeconds: expiresIn }
  }
  const code = typeof body.error === 'string' ? body.error : undefined
  // AADSTS descriptions carry a trace id and timestamp after the first line.
  const description =
    typeof body.error_description === 'string'
      ? body.error_description.split(/\r?\n/)[0]
      : undefined
  return {
    expiresInSeconds: 0,
    error: [code, description].filter((part) => part !== undefined).join(': ') || undefined,
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

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

import { readFile } from '../../core/builtins.ts'
import { GatewayError } from '../../core/errors.ts'
import type { Transport, UpstreamResponse } from '../../upstream/transport.ts'
import { loadRequest } from '../../upstream/undici.ts'
import type { UpstreamRequest } from '../types.ts'
import { scrubSecrets } from '../upstream-error.ts'

export interface ManagedIdentityConfig {
  /** A user-assigned identity; the host's system-assigned identity when absent. */
  client_id?: string | undefined
  endpoint: string
  /** App Service / Container Apps: the value of `IDENTITY_HEADER`. */
  identity_header?: string | undefined
}

export interface EntraConfig {
  tenant_id?: string | undefined
  client_id?: string | undefined
  client_secret?: string | undefined
  federated_token_file?: string | undefined
  managed_identity?: ManagedIdentityConfig | undefined
  scope: string
  authority_host: string
}

/** The Instance Metadata Service's token endpoint, the same address on every Azure VM. */
export const imdsTokenEndpoint = 'http://169.254.169.254/metadata/identity/oauth2/token'
const federatedAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** One way of asking for a token; `body` is built at each fetch. */
interface TokenRequest {
  url: string
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: () => Promise<string>
  /** Who answers, for error messages: "Microsoft Entra ID (host)". */
  issuer: string
  /** Never to be shown in an error message. */
  secrets: () => string[]
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

function tokenRequest(config: EntraConfig): TokenRequest {
  const identity = config.managed_identity
  if (identity !== undefined) {
    // The identity endpoints take the resource, not a scope: the scope without `/.default`.
    const query = new URLSearchParams({
      'api-version': identity.identity_header === undefined ? '2018-02-01' : '2019-08-01',
      resource: config.scope.replace(/\/\.default$/, ''),
    })
    if (identity.client_id !== undefined) query.set('client_id', identity.client_id)
    const separator = identity.endpoint.includes('?') ? '&' : '?'
    const header = identity.identity_header
    return {
      url: `${identity.endpoint}${separator}${query}`,
      method: 'GET',
      headers: header === undefined ? { metadata: 'true' } : { 'x-identity-header': header },
      issuer: `The managed identity endpoint (${new URL(identity.endpoint).host})`,
      secrets: () => (header === undefined ? [] : [header]),
    }
  }
  const authority = config.authority_host.replace(/\/+$/, '')
  const url = `${authority}/${encodeURIComponent(config.tenant_id ?? '')}/oauth2/v2.0/token`
  const fields = { grant_type: 'client_credentials', client_id: config.client_id ?? '' }
  const tokenFile = config.federated_token_file
  let assertion = ''
  const body =
    tokenFile === undefined
      ? async () =>
          new URLSearchParams({
            ...fields,
            client_secret: config.client_secret ?? '',
            scope: config.scope,
          }).toString()
      : async () => {
          assertion = await readAssertion(tokenFile)
          return new URLSearchParams({
            ...fields,
            client_assertion_type: federatedAssertionType,
            client_assertion: assertion,
            scope: config.scope,
          }).toString()
        }
  return {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    issuer: `Microsoft Entra ID (${new URL(url).host})`,
    secrets: () => [config.client_secret ?? '', assertion].filter((secret) => secret !== ''),
  }
}

/** The platform writes and rotates the file; a missing or empty one is the operator's to fix. */
async function readAssertion(file: string): Promise<string> {
  let text: string
  try {
    text = (await readText(file)).trim()
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    throw new GatewayError(
      'upstream_auth',
      `The federated token file ${file} could not be read${typeof code === 'string' ? ` (${code})` : ''}`,
    )
  }
  if (text === '') {
    throw new GatewayError('upstream_auth', `The federated token file ${file} is empty`)
  }
  return text
}

function readText(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    readFile(file, 'utf8', (error, text) => (error ? reject(error) : resolve(text)))
  })
}

/**
 * The token endpoint's JSON: `access_token` and its lifetime, or `error` and its description.
 * Entra ID and the Instance Metadata Service give `expires_in` (seconds, a string from IMDS); App
 * Service's endpoint gives only `expires_on` (epoch seconds).
 */
function parseTokenAnswer(
  text: string,
  at: number,
): {
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
  const expiresIn =
    body.expires_in !== undefined
      ? Number(body.expires_in)
      : Number(body.expires_on) - Math.floor(at / 1000)
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

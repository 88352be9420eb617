/**
 * How the gateway asks Microsoft Entra ID for a token, one way per kind of identity, and how it
 * reads the answer: the token endpoint's client-credentials grant (with a secret or a federated
 * assertion) or the host's managed-identity endpoint.
 */
import { readFile } from '../../core/builtins.ts'
import { GatewayError } from '../../core/errors.ts'

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
export interface TokenRequest {
  url: string
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: () => Promise<string>
  /** Who answers, for error messages: "Microsoft Entra ID (host)". */
  issuer: string
  /** Never to be shown in an error message. */
  secrets: () => string[]
}

export function tokenRequest(config: EntraConfig): TokenRequest {
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
export function parseTokenAnswer(
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

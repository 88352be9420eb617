/**
 * Authenticates a request from its `Authorization: Bearer` header, or from `x-portkey-api-key`
 * (Portkey SDKs send the gateway key there; their `Authorization` may carry a provider key, which
 * is never used).
 */
import type { ClientKey, KeyRing } from '../auth/keys.ts'
import { GatewayError } from '../core/errors.ts'
import type { RequestContext } from './context.ts'

/** Async because a stored key may need a (briefly cached) store lookup. */
export async function authenticate(context: RequestContext, keys: KeyRing): Promise<ClientKey> {
  const { authorization: header, 'x-portkey-api-key': portkeyKey } = context.request.headers
  const secret =
    typeof portkeyKey === 'string' && portkeyKey.trim() !== ''
      ? portkeyKey.trim()
      : header?.startsWith('Bearer ')
        ? header.slice(7).trim()
        : undefined
  if (!secret) {
    throw new GatewayError(
      'invalid_api_key',
      'Missing API key: send it as "Authorization: Bearer <key>"',
    )
  }
  const key = await keys.authenticate(secret)
  if (key === undefined) throw new GatewayError('invalid_api_key', 'Invalid API key')
  if (key.expiresAt !== undefined && key.expiresAt <= Date.now()) {
    throw new GatewayError('invalid_api_key', 'This API key has expired')
  }
  context.key = key
  return key
}

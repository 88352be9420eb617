/**
 * Authorises an admin API request against `auth.admin_key`. The presented key is hashed and the
 * digests compared with timingSafeEqual, so the comparison takes the same time however much of a
 * guess matched (and never depends on the secret's length). The key is never logged.
 */

import { hashSecret } from '../../../auth/keys.ts'
import { timingSafeEqual } from '../../../core/builtins.ts'
import { GatewayError } from '../../../core/errors.ts'
import type { RequestContext } from '../../context.ts'

export function createAdminCheck(adminKey: string | undefined): (context: RequestContext) => void {
  const expected = adminKey === undefined ? undefined : hashSecret(adminKey)
  return (context) => {
    if (expected === undefined) {
      throw new GatewayError(
        'forbidden',
        'The admin API is disabled: set auth.admin_key in the config to enable it',
      )
    }
    const header = context.request.headers.authorization
    const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : ''
    if (presented.length === 0 || !timingSafeEqual(hashSecret(presented), expected)) {
      throw new GatewayError(
        'invalid_api_key',
        'The admin API needs "Authorization: Bearer <admin_key>"',
      )
    }
  }
}

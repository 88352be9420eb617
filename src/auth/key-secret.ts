/**
 * Secrets for stored keys: `sy-` and 256 random bits (base64url). Only the SHA-256 digest and a
 * short prefix (so people can tell keys apart in listings) are ever stored.
 */
import { randomBytes } from '../core/builtins.ts'
import { hashSecret } from './keys.ts'

export interface NewKeySecret {
  secret: string
  /** Hex SHA-256 digest, the lookup column. */
  hash: string
  prefix: string
}

export const secretPrefixLength = 10

export function newKeySecret(random: (size: number) => Buffer = randomBytes): NewKeySecret {
  const secret = `sy-${random(32).toString('base64url')}`
  return {
    secret,
    hash: hashSecret(secret).toString('hex'),
    prefix: secret.slice(0, secretPrefixLength),
  }
}

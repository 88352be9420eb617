import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { mapError, mapStreamError } from '../../src/providers/anthropic/map-error.ts'
import { fixtureJson } from './fixtures.ts'

interface ErrorFixture {
  status: number
  headers?: Record<string, string>
  body: unknown
}
const fixtures = fixtureJson<Record<string, ErrorFixture>>('errors.json')
const secret = 'sk-ant-api03-secretsecretsecret'

describe('mapError', () => {
  const expectations: Record<
    string,
    { status: number; type: string; code: string | null; retryAfter?: number }
  > = {
    invalid_request_error: { status: 400, type: 'invalid_request_error', code: null },
    authentication_error: { status: 502, type: 'upstream_error', code: 'upstream_auth' },
    not_found_error: { status: 404, type: 'not_found_error', code: null },
    rate_limit_error: {
      status: 429,
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
      retryAfter: 17,
    },
    api_error: { status: 502, type: 'upstream_error', code: 'upstream_error' },
    overloaded_error: { status: 503, type: 'overloaded_error', code: 'upstream_overloaded' },
  }
  for (const [name, expected] of Object.entries(expectations)) {
    test(`${name} -> ${expected.status}`, () => {
      const fixture = fixtures[name]!
      const error = mapError(fixture.status, JSON.stringify(fixture.body), fixture.headers ?? {}, [
        secret,
      ])
      assert.equal(error.status, expected.status)
      assert.equal(error.type, expected.type)
      assert.equal(error.publicCode, expected.code)
      assert.equal(error.retryAfter, expected.retryAfter)
    })
  }

  test('relays the upstream message of a 400, never the key', () => {
    const body = JSON.stringify({
      type: 'error',
      error: { type: 'invalid_request_error', message: `bad key ${secret} in messages.0` },
    })
    const error = mapError(400, body, {}, [secret])
    assert.equal(error.message, 'bad key [redacted] in messages.0')
    const auth = mapError(401, body, {}, [secret])
    assert.doesNotMatch(auth.message, /sk-ant/)
  })

  test('an overloaded_error with another status is still overloaded', () => {
    const error = mapError(
      500,
      JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
      {},
      [],
    )
    assert.equal(error.status, 503)
  })

  test('a mid-stream error event takes its status from its type', () => {
    const overloaded = mapStreamError(JSON.stringify(fixtures.overloaded_error!.body), [])
    assert.equal(overloaded.status, 503)
    const invalid = mapStreamError(JSON.stringify(fixtures.invalid_request_error!.body), [])
    assert.equal(invalid.status, 400)
    assert.equal(invalid.message, 'max_tokens: Field required')
  })
})

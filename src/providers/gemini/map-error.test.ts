import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { fixtureText } from './fixtures.test-helper.ts'
import { parseGeminiError } from './map-error.ts'

const apiKey = 'AIzaSyTHEgatewaysOWNkey0123456789abc'

describe('parseGeminiError', () => {
  const cases: {
    fixture: string
    status: number
    expected: { status: number; code: string; type: string; publicCode: string | null }
    retryAfter?: number
  }[] = [
    {
      fixture: 'error-400.json',
      status: 400,
      expected: {
        status: 400,
        code: 'upstream_error',
        type: 'invalid_request_error',
        publicCode: null,
      },
    },
    {
      fixture: 'error-400-invalid-key.json',
      status: 400,
      expected: {
        status: 502,
        code: 'upstream_auth',
        type: 'upstream_error',
        publicCode: 'upstream_auth',
      },
    },
    {
      fixture: 'error-403.json',
      status: 403,
      expected: {
        status: 502,
        code: 'upstream_auth',
        type: 'upstream_error',
        publicCode: 'upstream_auth',
      },
    },
    {
      fixture: 'error-404.json',
      status: 404,
      expected: {
        status: 404,
        code: 'upstream_error',
        type: 'invalid_request_error',
        publicCode: 'model_not_found',
      },
    },
    {
      fixture: 'error-429.json',
      status: 429,
      expected: {
        status: 429,
        code: 'rate_limit_exceeded',
        type: 'rate_limit_error',
        publicCode: 'rate_limit_exceeded',
      },
      retryAfter: 37,
    },
    {
      fixture: 'error-500.json',
      status: 500,
      expected: {
        status: 502,
        code: 'upstream_error',
        type: 'upstream_error',
        publicCode: 'upstream_error',
      },
    },
    {
      fixture: 'error-503.json',
      status: 503,
      expected: {
        status: 503,
        code: 'upstream_overloaded',
        type: 'overloaded_error',
        publicCode: 'upstream_overloaded',
      },
    },
  ]
  for (const { fixture, status, expected, retryAfter } of cases) {
    test(`${fixture} -> ${expected.status} ${expected.code}`, () => {
      const error = parseGeminiError(status, fixtureText(fixture), {}, [apiKey])
      const { status: gotStatus, code, type, publicCode } = error
      assert.deepEqual({ status: gotStatus, code, type, publicCode }, expected)
      assert.equal(error.retryAfter, retryAfter)
      assert.doesNotMatch(error.message, /AIza/)
    })
  }

  test('the message is relayed with the key scrubbed', () => {
    const body = JSON.stringify({
      error: { code: 400, message: `bad request with ${apiKey}`, status: 'INVALID_ARGUMENT' },
    })
    const error = parseGeminiError(400, body, {}, [apiKey])
    assert.equal(error.message, 'bad request with [redacted]')
  })

  test('a retry-after header wins over RetryInfo; a list-wrapped body is read', () => {
    const body = `[${fixtureText('error-429.json')}]`
    const error = parseGeminiError(429, body, { 'retry-after': '5' }, [])
    assert.equal(error.retryAfter, 5)
    assert.match(error.message, /exceeded your current quota/)
  })

  test('a non-JSON body still maps by status', () => {
    const error = parseGeminiError(502, '<html>Bad Gateway</html>', {}, [])
    assert.equal(error.status, 502)
    assert.equal(error.code, 'upstream_error')
  })
})

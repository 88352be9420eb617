/** Awaits a call that must fail and returns the openai SDK's error for assertions. */
import assert from 'node:assert/strict'
import OpenAI from 'openai'

export async function apiError(
  promise: Promise<unknown>,
): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, String(error))
    return error
  }
  assert.fail('expected an API error')
}

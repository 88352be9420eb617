/** Reads a JSON request body with a size limit; parse failures are OpenAI-shaped 400s. */
import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../core/errors.ts'

export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(request.headers['content-length'])
  if (declared > limit) {
    request.resume()
    throw tooLarge(limit)
  }
  const type = request.headers['content-type']
  if (type !== undefined && !type.includes('json')) {
    request.resume()
    throw new GatewayError(
      'unsupported_media_type',
      `Expected a JSON body, got content-type ${type}`,
    )
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) {
      request.resume()
      throw tooLarge(limit)
    }
    chunks.push(chunk)
  }
  const text =
    chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')
  if (text.length === 0)
    throw new GatewayError('invalid_json', 'The request body is empty; expected JSON')
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new GatewayError(
      'invalid_json',
      `The request body is not valid JSON: ${(error as Error).message}`,
    )
  }
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('body_too_large', `The request body exceeds the limit of ${limit} bytes`)
}

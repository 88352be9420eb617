/** Reads a JSON request body with a size limit; parse failures are OpenAI-shaped 400s. */
import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../core/errors.ts'

export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  return (await readJson(request, limit)).value
}

/** The body parsed, and the text it was parsed from (forwarded as is where nothing changes). */
export async function readJson(
  request: IncomingMessage,
  limit: number,
): Promise<{ value: unknown; text: string }> {
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
  const bytes = takeBuffered(request, declared, limit) ?? (await readArriving(request, limit))
  const text = bytes.toString('utf8')
  if (text.length === 0)
    throw new GatewayError('invalid_json', 'The request body is empty; expected JSON')
  try {
    return { value: JSON.parse(text), text }
  } catch (error) {
    throw new GatewayError(
      'invalid_json',
      `The request body is not valid JSON: ${(error as Error).message}`,
    )
  }
}

const noBytes = Buffer.alloc(0)

/**
 * The whole body, when it has all arrived and nothing has read it yet. A chat request is a few
 * KB, so it usually comes in the same reads as its headers and is in the request's buffer by the
 * time the handler gets here: one `read()` takes it without the four listeners, the flowing
 * mode and the promise that waiting for it costs. node marks the request `complete` only in a
 * later callback, so a buffer holding every byte `content-length` announced counts as whole.
 */
function takeBuffered(
  request: IncomingMessage,
  declared: number,
  limit: number,
): Buffer | undefined {
  if (request.readableFlowing !== null) return undefined
  if (!request.complete && request.readableLength !== declared) return undefined
  if (request.readableLength > limit) {
    request.resume()
    throw tooLarge(limit)
  }
  return (request.read() as Buffer | null) ?? noBytes
}

/**
 * Collects a body still arriving with 'data'/'end' listeners: a Readable's async iterator costs a
 * promise and its bookkeeping per chunk.
 */
function readArriving(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        request.resume()
        reject(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    const onClose = () => {
      // Closed before 'end': the client went away mid-body.
      cleanup()
      reject(new GatewayError('invalid_request', 'The request body was cut off'))
    }
    const cleanup = () => {
      request.off('data', onData)
      request.off('end', onEnd)
      request.off('error', onError)
      request.off('close', onClose)
    }
    request.on('data', onData)
    request.on('end', onEnd)
    request.on('error', onError)
    request.on('close', onClose)
  })
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('body_too_large', `The request body exceeds the limit of ${limit} bytes`)
}

/**
 * An OpenAI-compatible fake upstream that fails on demand: each request takes the next step of a
 * script (or the default step once the script is used up): answer, fail with a status, wait,
 * hang, reset the connection, or drop a stream after some chunks. It records when each request
 * arrived, so tests can measure the gateway's waits between attempts.
 */
import type { ServerResponse } from 'node:http'
import type { RecordedRequest } from './fake-upstream.ts'
import { type FakeUpstream, sendEvents, sendJson, startFakeUpstream } from './fake-upstream.ts'
import { completion, streamEvents } from './openai-fixtures.ts'

export type Step =
  | { type: 'answer'; content?: string; latencyMs?: number }
  | { type: 'status'; status: number; headers?: Record<string, string>; message?: string }
  | { type: 'hang' }
  | { type: 'reset' }
  /** Sends response headers and then resets, before any chunk. */
  | { type: 'reset-after-headers' }
  /** Streams `chunks` content chunks, then resets the connection. */
  | { type: 'drop-stream'; chunks: number }

export interface ScriptedUpstream extends FakeUpstream {
  /** `performance.now()` of each request's arrival. */
  arrivals: number[]
  script(steps: Step[], fallback?: Step): void
  reset(): void
}

export const answer = (content: string, latencyMs = 0): Step => ({
  type: 'answer',
  content,
  latencyMs,
})
export const status = (code: number, headers: Record<string, string> = {}): Step => ({
  type: 'status',
  status: code,
  headers,
})

export async function startScriptedUpstream(label: string): Promise<ScriptedUpstream> {
  let steps: Step[] = []
  let fallback: Step = answer(`from ${label}`)
  const arrivals: number[] = []
  const upstream = await startFakeUpstream(async (request, response) => {
    arrivals.push(performance.now())
    const step = steps.shift() ?? fallback
    await play(step, request, response, label)
  })
  return {
    ...upstream,
    arrivals,
    script(next, otherwise) {
      steps = [...next]
      if (otherwise !== undefined) fallback = otherwise
    },
    reset() {
      steps = []
      fallback = answer(`from ${label}`)
      arrivals.length = 0
      upstream.requests.length = 0
    },
  }
}

async function play(
  step: Step,
  request: RecordedRequest,
  response: ServerResponse,
  label: string,
): Promise<void> {
  const body = request.body as { model?: string; stream?: boolean }
  const model = body.model ?? 'unknown'
  switch (step.type) {
    case 'answer': {
      if (step.latencyMs) await new Promise((resolve) => setTimeout(resolve, step.latencyMs))
      const content = step.content ?? `from ${label}`
      if (body.stream === true) {
        await sendEvents(response, streamEvents(model, content.split(' '), true))
      } else {
        sendJson(response, 200, completion(model, content))
      }
      return
    }
    case 'status':
      response.writeHead(step.status, { 'content-type': 'application/json', ...step.headers })
      response.end(
        JSON.stringify({
          error: { message: step.message ?? `${label} says ${step.status}`, type: 'server_error' },
        }),
      )
      return
    case 'hang':
      await request.closed
      return
    case 'reset':
      response.socket?.destroy()
      return
    case 'reset-after-headers':
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      response.flushHeaders()
      setTimeout(() => response.socket?.destroy(), 20)
      return
    case 'drop-stream': {
      const events = streamEvents(model, ['partial', 'answer', 'never', 'finished'], false)
      await sendEvents(response, events.slice(0, step.chunks), { end: false })
      setTimeout(() => response.socket?.destroy(), 20)
      return
    }
  }
}

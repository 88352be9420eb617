/** Reads this folder's recorded Gemini wire samples for the unit tests. */
import { readFileSync } from 'node:fs'
import { createParser } from 'eventsource-parser'
import type { SseEvent } from '../types.ts'

const folder = new URL('./__fixtures__/', import.meta.url)

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, folder), 'utf8')
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T
}

/** Splits a recorded SSE body into events the way the shared plumbing does. */
export function fixtureEvents(name: string): SseEvent[] {
  const events: SseEvent[] = []
  const parser = createParser({
    onEvent: (message) => events.push({ event: message.event, data: message.data }),
  })
  parser.feed(fixtureText(name))
  return events
}

/** Reads the Anthropic wire-format fixtures in src/providers/anthropic/__fixtures__. */
import { readFileSync } from 'node:fs'
import { createParser } from 'eventsource-parser'
import type { SseEvent } from '../../src/providers/types.ts'

const directory = new URL('../../src/providers/anthropic/__fixtures__/', import.meta.url)

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, directory), 'utf8')
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T
}

/** A raw SSE fixture as the events the upstream plumbing hands a translator. */
export function fixtureEvents(name: string): SseEvent[] {
  const events: SseEvent[] = []
  const parser = createParser({
    onEvent: (message) => events.push({ event: message.event, data: message.data }),
  })
  parser.feed(fixtureText(name))
  return events
}

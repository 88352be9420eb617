/** Reads a provider's recorded wire samples in `src/providers/<kind>/__fixtures__/`. */
import { readFileSync } from 'node:fs'
import { createParser } from 'eventsource-parser'
import type { SseEvent } from '../../src/providers/types.ts'

export function providerFixtures(kind: string) {
  const folder = new URL(`../../src/providers/${kind}/__fixtures__/`, import.meta.url)
  const fixtureText = (name: string): string => readFileSync(new URL(name, folder), 'utf8')
  return {
    fixtureText,
    fixtureJson: <T = unknown>(name: string): T => JSON.parse(fixtureText(name)) as T,
    /** A recorded SSE body split into events the way the shared plumbing does. */
    fixtureEvents(name: string): SseEvent[] {
      const events: SseEvent[] = []
      const parser = createParser({
        onEvent: (message) => events.push({ event: message.event, data: message.data }),
      })
      parser.feed(fixtureText(name))
      return events
    },
  }
}

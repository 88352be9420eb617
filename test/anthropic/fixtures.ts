/** The Anthropic wire-format fixtures in src/providers/anthropic/__fixtures__. */
import { providerFixtures } from '../helpers/provider-fixtures.ts'

export const { fixtureText, fixtureJson, fixtureEvents } = providerFixtures('anthropic')

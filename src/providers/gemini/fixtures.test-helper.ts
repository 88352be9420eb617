/** This folder's recorded Gemini wire samples, for the unit tests. */
import { providerFixtures } from '../../../test/helpers/provider-fixtures.ts'

export const { fixtureText, fixtureJson, fixtureEvents } = providerFixtures('gemini')

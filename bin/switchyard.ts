#!/usr/bin/env node
import { limitYoungGeneration } from '../src/cli/young-generation.ts'

// Before anything else loads: `serve` may start itself again with a V8 flag (see the module).
limitYoungGeneration()
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))

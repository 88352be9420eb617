#!/usr/bin/env node
import { restartTuned } from '../src/cli/serve-restart.ts'

// Before anything else loads: `serve` may start itself again with memory settings (see the module).
restartTuned()
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))

/**
 * The parts of prom-client the gateway uses, each from its own file: the package index also loads
 * the cluster aggregator, the push gateway client and summaries, about 10 MB of resident memory
 * that no gateway process needs. The types come from the package's declarations.
 */
import { createRequire } from 'node:module'
import type * as Prom from 'prom-client'

const require = createRequire(import.meta.url)

export const Registry: typeof Prom.Registry = require('prom-client/lib/registry.js')
export const Counter: typeof Prom.Counter = require('prom-client/lib/counter.js')
export const Gauge: typeof Prom.Gauge = require('prom-client/lib/gauge.js')
export const collectDefaultMetrics: typeof Prom.collectDefaultMetrics = require('prom-client/lib/defaultMetrics.js')

/** The model catalog: what `/v1/models` shows and how a requested name resolves to a model. */
import type { ModelConfig } from './config/schema.ts'
import { routeOwner } from './routing/config.ts'

export interface CatalogModel {
  id: string
  object: 'model'
  created: number
  owned_by: string
  type: ModelConfig['type']
  aliases: string[]
  max_context_length: number | null
  costs: ModelConfig['costs'] | null
}

export interface Catalog {
  /** Resolves an id or an alias. */
  resolve(name: string): ModelConfig | undefined
  /** The public entry of a model. */
  entry(id: string): CatalogModel | undefined
  entries(): readonly CatalogModel[]
}

export function createCatalog(models: readonly ModelConfig[], startedAt: number): Catalog {
  const byName = new Map<string, ModelConfig>()
  const entries = new Map<string, CatalogModel>()
  for (const model of models) {
    byName.set(model.id, model)
    for (const alias of model.aliases) byName.set(alias, model)
    entries.set(model.id, {
      id: model.id,
      object: 'model',
      created: model.created ?? Math.floor(startedAt / 1000),
      owned_by: model.owned_by ?? routeOwner(model.route),
      type: model.type,
      aliases: model.aliases,
      max_context_length: model.max_context_length ?? null,
      costs: model.costs ?? null,
    })
  }
  const list = [...entries.values()]
  return {
    resolve: (name) => byName.get(name),
    entry: (id) => entries.get(id),
    entries: () => list,
  }
}

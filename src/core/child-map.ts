/** The map kept under `key` in a map of maps, created empty the first time. */
export function childMap<K, K2, V>(parent: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let child = parent.get(key)
  if (child === undefined) {
    child = new Map()
    parent.set(key, child)
  }
  return child
}

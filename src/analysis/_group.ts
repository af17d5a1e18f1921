// Grouping helper of the analyses.

/**
 * Group items by a key, keeping first-appearance order.
 * @param items the items
 * @param key the grouping key
 * @returns the groups
 */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

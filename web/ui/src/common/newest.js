// A list reloaded as its filters change sends requests that can answer out of
// order: a slow answer to an older filter must not replace a newer one.
//
//   const begin = newest()
//   async function load() {
//     const current = begin()
//     const r = await api.something()
//     if (!current()) return // a newer load has started
//     rows.value = r
//   }
export function newest() {
  let last = 0
  return () => {
    const mine = ++last
    return () => mine === last
  }
}

#!/usr/bin/env node
// The public API of every package as one declaration file each (api/<package>.d.ts, committed):
// what tsdown emits for the entry points of the package's exports map and the chunks they import,
// comments stripped, chunk hashes normalised. `npm test` runs it with --check right after the
// package builds, so any export or type change is a visible diff in review; `npm run api` builds
// the packages and rewrites the files after an intended change.
//   node scripts/api-report.mjs [--check]      (needs the packages built: scripts/packages.mjs)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PACKAGES } from './pack.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const check = process.argv.includes('--check')
const outDir = join(root, 'api')

/** `types` of every subpath of the exports map, in the map's order: `{ '.': 'index.d.ts' }`. */
function entriesOf(pkgDir) {
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
  const entries = []
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    const types = typeof target === 'object' && target !== null ? target.types : undefined
    if (typeof types !== 'string') continue
    if (!types.startsWith('./dist/')) throw new Error(`${manifest.name}: "${subpath}" types outside dist/`)
    entries.push({ subpath, file: types.slice('./dist/'.length) })
  }
  if (entries.length === 0) throw new Error(`${manifest.name}: no "types" in the exports map`)
  return { name: manifest.name, entries }
}

/** Relative imports of a declaration file (`from './config-B26wYzM-.js'`, `import('./x.js')`). */
function relativeImports(text) {
  const found = []
  for (const match of text.matchAll(
    /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)(['"])(\.{1,2}\/[^'"]+)\1/gm,
  )) {
    found.push(match[2])
  }
  return found
}

/** `a as b, type c` → `[{ type: '', local: 'a', exported: 'b' }, { type: 'type ', local: 'c', exported: 'c' }]`. */
function specifiers(list) {
  return list
    .split(',')
    .map((spec) => spec.trim())
    .filter(Boolean)
    .map((spec) => {
      const match = /^(type\s+)?([\w$]+)(?:\s+as\s+([\w$]+))?$/.exec(spec)
      if (!match) throw new Error(`unexpected import/export specifier: ${spec}`)
      return { type: match[1] ? 'type ' : '', local: match[2], exported: match[3] ?? match[2] }
    })
}

/**
 * Import and export lists, sorted, one name a line when the statement is long: adding an export is
 * a one-line diff.
 */
function listPerLine(text) {
  return text.replace(
    /^(import|export)( type)? \{([^}\n]*)\}(.*)$/gm,
    (_, keyword, type = '', list, rest) => {
      const names = specifiers(list)
        .map(
          (spec) =>
            `${spec.type}${spec.local === spec.exported ? spec.local : `${spec.local} as ${spec.exported}`}`,
        )
        .sort((a, b) => compare(byName(a).toLowerCase(), byName(b).toLowerCase()) || compare(a, b))
      const oneLine = `${keyword}${type} { ${names.join(', ')} }${rest}`
      return oneLine.length <= 100
        ? oneLine
        : `${keyword}${type} {\n${names.map((n) => `  ${n},`).join('\n')}\n}${rest}`
    },
  )
}

const byName = (spec) => spec.replace(/^type /, '')
// Code-unit order, not localeCompare: the same on every Node (ICU) version.
const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * A declaration file's text without comments (tsdown emits JSDoc and `//#region` lines, each on
 * lines of their own), trailing spaces and blank lines.
 */
function stripComments(text) {
  return text
    .replace(/^[ \t]*\/\*[\s\S]*?\*\/[ \t]*$/gm, '')
    .replace(/^[ \t]*\/\/.*$/gm, '')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{2,}/g, '\n')
    .trim()
}

function report(name) {
  const pkgDir = join(root, 'packages', name)
  const dist = join(pkgDir, 'dist')
  const { name: packageName, entries } = entriesOf(pkgDir)
  // The entry files and, breadth-first in import order, every chunk they reach.
  const order = entries.map((entry) => entry.file)
  const texts = new Map()
  for (let i = 0; i < order.length; i++) {
    const file = order[i]
    const path = join(dist, file)
    if (!existsSync(path)) {
      throw new Error(`packages/${name}/dist/${file} is missing: build the packages first (npm run build)`)
    }
    const text = readFileSync(path, 'utf8')
    texts.set(file, text)
    for (const specifier of relativeImports(text)) {
      const target = posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.d.ts')
      if (!order.includes(target)) order.push(target)
    }
  }
  // Chunk names carry a content hash (`config-B26wYzM-.d.ts`): each becomes `config-HASH` (numbered
  // when two chunks share a name), replaced wherever the hashed name appears.
  const entryFiles = new Set(entries.map((entry) => entry.file))
  const renames = new Map()
  const taken = new Set()
  for (const file of order) {
    if (entryFiles.has(file)) continue
    const match = /^(.*)-[\w-]{8}\.d\.ts$/.exec(file)
    if (!match) throw new Error(`packages/${name}/dist/${file}: not a hashed chunk name`)
    let stable = `${match[1]}-HASH`
    for (let n = 2; taken.has(stable); n++) stable = `${match[1]}-HASH${n}`
    taken.add(stable)
    renames.set(file.replace(/\.d\.ts$/, ''), stable)
  }
  // A chunk exports its names under short aliases that move whenever the chunk changes
  // (`export { Secret as C }`, `import { C as Secret } from './config-….js'`): both sides are
  // rewritten with the chunk's own names, sorted, so only a real change shows.
  const aliases = new Map()
  for (const file of order) {
    if (entryFiles.has(file)) continue
    const names = new Map()
    for (const match of texts.get(file).matchAll(/^export \{([^}]*)\};?$/gm)) {
      for (const spec of specifiers(match[1])) names.set(spec.exported, spec.local)
    }
    aliases.set(file, names)
  }
  const normalise = (file, text) => {
    let out = text
    if (aliases.has(file)) {
      out = out.replace(/^export \{([^}]*)\};?$/gm, (_, list) => {
        const locals = specifiers(list).map((spec) => `${spec.type}${spec.local}`)
        return `export { ${[...new Set(locals)].join(', ')} };`
      })
    }
    out = out.replace(
      /^import (type )?\{([^}]*)\} from (['"])(\.{1,2}\/[^'"]+)\3;?$/gm,
      (statement, type = '', list, quote, specifier) => {
        const target = posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.d.ts')
        const names = aliases.get(target)
        if (!names) return statement
        const specs = specifiers(list).map((spec) => {
          const local = names.get(spec.local)
          if (local === undefined) throw new Error(`${file}: ${target} does not export ${spec.local}`)
          return `${spec.type}${local === spec.exported ? local : `${local} as ${spec.exported}`}`
        })
        return `import ${type}{ ${specs.join(', ')} } from ${quote}${specifier}${quote};`
      },
    )
    out = stripComments(out)
    for (const [hashed, stable] of renames) out = out.replaceAll(hashed, stable)
    return listPerLine(out)
  }
  const sections = order.map((file) => {
    const entry = entries.find((e) => e.file === file)
    const heading = entry
      ? `${entry.subpath === '.' ? packageName : `${packageName}/${entry.subpath.slice(2)}`} (dist/${file})`
      : `chunk dist/${renames.get(file.replace(/\.d\.ts$/, ''))}.d.ts`
    return `// ---- ${heading}\n${normalise(file, texts.get(file))}\n`
  })
  return `// The public API of ${packageName}: generated by scripts/api-report.mjs (npm run api), do not edit.\n${sections.join('\n')}`
}

let stale = 0
if (!check) mkdirSync(outDir, { recursive: true })
for (const name of PACKAGES) {
  const path = join(outDir, `${name}.d.ts`)
  const text = report(name)
  const old = existsSync(path) ? readFileSync(path, 'utf8') : undefined
  if (old === text) continue
  if (check) {
    stale++
    console.error(
      old === undefined
        ? `[api] api/${name}.d.ts is missing`
        : `[api] api/${name}.d.ts differs from the built package:\n${firstDifference(old, text)}`,
    )
  } else {
    writeFileSync(path, text)
    console.log(`[api] wrote api/${name}.d.ts`)
  }
}
if (stale) {
  console.error('[api] the public API changed: review it, then run `npm run api` and commit api/*.d.ts')
  process.exit(1)
}
console.log(
  check
    ? `[api] the public API of ${PACKAGES.length} packages matches api/*.d.ts`
    : `[api] api/*.d.ts is up to date for ${PACKAGES.length} packages`,
)

/** Where two texts first differ: the line number and both lines. */
function firstDifference(committed, built) {
  const x = committed.split('\n')
  const y = built.split('\n')
  let i = 0
  while (i < x.length && i < y.length && x[i] === y[i]) i++
  return `  line ${i + 1}\n  - ${x[i] ?? '(end of file)'}\n  + ${y[i] ?? '(end of file)'}`
}

/**
 * The MCP SDK's error classes, from the copy of the SDK that is calling us.
 *
 * The SDK's `requireBearerAuth` maps errors to 401/403 with `instanceof` against its own classes.
 * With two copies of the SDK installed (pnpm peers, symlinked workspaces, a CommonJS and an ESM
 * build), the copy this package resolves is not necessarily the server's, and an instance of the
 * wrong copy's class is answered with 500. So the classes are taken from the SDK copy found in
 * the caller's stack frames (`…/@modelcontextprotocol/sdk/dist/<esm|cjs>/…`), and only without
 * one from the copy this package resolves.
 */

type SdkErrorClass = new (message: string) => Error

export interface SdkErrorClasses {
  InvalidTokenError: SdkErrorClass
  InsufficientScopeError: SdkErrorClass
  ServerError: SdkErrorClass
}

const DEFAULT_SPECIFIER = '@modelcontextprotocol/sdk/server/auth/errors.js'

// An SDK build in a frame's location: everything up to `dist/esm/` or `dist/cjs/`.
const SDK_ROOT = /^(.*[\\/]@modelcontextprotocol[\\/]sdk[\\/]dist[\\/](?:esm|cjs)[\\/])/
// V8 frames: `    at fn (location:line:col)` or `    at [async ]location:line:col`.
const FRAME = /^\s*at (?:async )?(?:.*? \((.*)\)|(.*))$/

/** The file locations of a V8 stack, in order, without line and column. */
function locations(stack: string): string[] {
  const out: string[] = []
  for (const line of stack.split('\n')) {
    const frame = FRAME.exec(line)
    const location = frame?.[1] ?? frame?.[2]
    if (location) out.push(location.replace(/:\d+:\d+$/, ''))
  }
  return out
}

const loaded = new Map<string, Promise<SdkErrorClasses | undefined>>()

/** `path` (POSIX, Windows or already a file URL) as a `file:` URL for `import()`. */
function fileUrl(path: string): string {
  if (path.startsWith('file://')) return path
  const posix = path.replace(/\\/g, '/')
  const absolute = posix.startsWith('/') ? posix : `/${posix}`
  return `file://${encodeURI(absolute).replace(/#/g, '%23').replace(/\?/g, '%3F')}`
}

/** The errors module of the SDK copy in `stack`, as an `import()` specifier, if there is one. */
export function sdkErrorsModuleInStack(stack: string | undefined): string | undefined {
  if (typeof stack !== 'string') return undefined
  for (const location of locations(stack)) {
    const root = SDK_ROOT.exec(location)?.[1]
    if (root) return `${fileUrl(root)}server/auth/errors.js`
  }
  return undefined
}

function load(specifier: string): Promise<SdkErrorClasses | undefined> {
  let classes = loaded.get(specifier)
  if (classes === undefined) {
    // A non-literal specifier: bundlers leave it alone, and this package does not depend on the SDK.
    classes = (import(/* @vite-ignore */ specifier) as Promise<Partial<SdkErrorClasses>>).then(
      (m) =>
        typeof m.InvalidTokenError === 'function' &&
        typeof m.InsufficientScopeError === 'function' &&
        typeof m.ServerError === 'function'
          ? {
              InvalidTokenError: m.InvalidTokenError,
              InsufficientScopeError: m.InsufficientScopeError,
              ServerError: m.ServerError,
            }
          : undefined,
      () => undefined,
    )
    loaded.set(specifier, classes)
  }
  return classes
}

/**
 * The SDK's error classes for a failure seen with `stack` (an error created where the SDK awaits
 * us: V8's async stack traces name the awaiting SDK frame): the calling copy's, else the default.
 */
export async function sdkErrorClasses(stack: string | undefined): Promise<SdkErrorClasses | undefined> {
  const own = sdkErrorsModuleInStack(stack)
  if (own !== undefined) {
    const classes = await load(own)
    if (classes) return classes
  }
  return load(DEFAULT_SPECIFIER)
}

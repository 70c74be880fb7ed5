// Node-only entry (`@mcp-oauth2/auth-core/node`): file-system helpers live here so the root entry
// stays runtime-agnostic.
export type { LoadConfigFileOptions } from './config-file.js'
export { loadConfigFile } from './config-file.js'

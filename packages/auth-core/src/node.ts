// Node-only entry (`@mcp-oauth2/auth-core/node`): file-system helpers live here so the root entry
// stays runtime-agnostic.
export {}

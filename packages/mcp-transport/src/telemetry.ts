/**
 * OpenTelemetry for the manager and the auth fetch (their `telemetry` option): what is traced and
 * measured is in docs/observability.md. `@opentelemetry/api` is an optional peer: without it,
 * nothing is loaded.
 */
export type { TelemetryOptions } from './internal/telemetry/telemetry.js'

// The OpenTelemetry packages mcp-transport tests and benchmarks run with (dev dependencies of
// this package, so they resolve from here; bench/ imports them through this file).
export { context, metrics, propagation, trace } from '@opentelemetry/api'
export { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
export { W3CTraceContextPropagator } from '@opentelemetry/core'
export { MeterProvider } from '@opentelemetry/sdk-metrics'
export { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'

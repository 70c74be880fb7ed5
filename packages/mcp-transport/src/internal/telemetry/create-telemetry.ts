import type { LoadModule } from './otel-api.js'
import { Telemetry, type TelemetryOptions } from './telemetry.js'
import { watchTokenChannels } from './token-channels.js'

/**
 * The telemetry for `options` (see `Telemetry.resolve`), reporting auth-core's token channels;
 * `undefined` when off or when `@opentelemetry/api` is not installed (then nothing is loaded).
 */
export function createTelemetry(
  options: TelemetryOptions | false | undefined,
  load?: LoadModule,
): Telemetry | undefined {
  const telemetry = Telemetry.resolve(options, load)
  if (telemetry) watchTokenChannels(telemetry)
  return telemetry
}

import { describe, expect, it } from 'vitest'
import { ReconnectPolicy, reconnectPolicy } from '../../../src/internal/manager/reconnect.js'

describe('ReconnectPolicy', () => {
  it('doubles the delay per failure up to maxDelayMs, jittered between half and all of it', () => {
    const low = new ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000 }, () => 0)
    const high = new ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000 }, () => 0.999_999)
    expect([1, 2, 3, 4, 5, 6].map((n) => low.delayAfter(n))).toEqual([50, 100, 200, 400, 500, 500])
    expect([1, 2, 3, 4, 5, 6].map((n) => high.delayAfter(n))).toEqual([100, 200, 400, 800, 1000, 1000])
  })

  it('schedules nothing after maxAttempts failures', () => {
    const policy = new ReconnectPolicy({ initialDelayMs: 10, maxAttempts: 2 }, () => 0)
    expect(policy.delayAfter(1)).toBe(5)
    expect(policy.delayAfter(2)).toBeUndefined()
    expect(reconnectPolicy(false)).toBeUndefined()
  })

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => new ReconnectPolicy({ initialDelayMs: 0 })).toThrow(/"retry.initialDelayMs"/)
    expect(() => new ReconnectPolicy({ maxDelayMs: Number.NaN })).toThrow(/"retry.maxDelayMs"/)
    expect(() => new ReconnectPolicy({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(/must be >=/)
  })
})

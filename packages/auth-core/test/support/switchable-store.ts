import {
  InMemoryTokenStore,
  type SharedTokenEntry,
  type TokenStoreLockResult,
  type TokenStoreOperationOptions,
} from '../../src/index.js'

/** The in-memory store with a switch that makes every operation reject, or hang. */
export class SwitchableStore extends InMemoryTokenStore {
  mode: 'up' | 'down' | 'hang' = 'up'
  calls = 0

  #gate(): Promise<void> {
    this.calls++
    if (this.mode === 'down')
      return Promise.reject(Object.assign(new Error('store down'), { code: 'ERR_TEST_DOWN' }))
    if (this.mode === 'hang') return new Promise(() => {})
    return Promise.resolve()
  }

  override async get(key: string, options?: TokenStoreOperationOptions) {
    await this.#gate()
    return super.get(key, options)
  }

  override async set(key: string, value: SharedTokenEntry, options?: { owner?: string }) {
    await this.#gate()
    return super.set(key, value, options)
  }

  override async lock(
    key: string,
    owner: string,
    ttlMs: number,
    options?: TokenStoreOperationOptions,
  ): Promise<TokenStoreLockResult> {
    await this.#gate()
    return super.lock(key, owner, ttlMs, options)
  }

  override async invalidate(key: string, rejected: string, options?: TokenStoreOperationOptions) {
    await this.#gate()
    return super.invalidate(key, rejected, options)
  }
}

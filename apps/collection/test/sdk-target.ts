// What the SDK tests point an SDK at: the collection service listening on a real port, behind a
// proxy that loses the first answer so that the SDK's retry is exercised.
import { freePort } from '@cdp/testing';
import { LosingFirstAnswerProxy, startCollection, type TrackingHarness } from './tracking-harness';

export interface SdkTarget {
  h: TrackingHarness;
  /** Give the SDK `proxy.url`; `proxy.seen` records what it sent and what it was answered. */
  proxy: LosingFirstAnswerProxy;
}

async function startSdkTarget(label: string): Promise<SdkTarget & { close(): Promise<void> }> {
  const h = await startCollection(label);
  let proxy: LosingFirstAnswerProxy | undefined;
  const close = async () => {
    await proxy?.stop();
    await h.close();
  };
  try {
    const port = await freePort();
    await h.app.listen({ port, host: '127.0.0.1' });
    proxy = new LosingFirstAnswerProxy(`http://127.0.0.1:${port}`);
    await proxy.start();
    return { h, proxy, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Starts the target before the enclosing describe's tests and closes it after them. Read `h` and
 * `proxy` inside a test: they exist only once beforeAll has run.
 */
export function useSdkTarget(label: string): SdkTarget {
  let started: (SdkTarget & { close(): Promise<void> }) | undefined;
  beforeAll(async () => {
    started = await startSdkTarget(label);
  });
  afterAll(async () => {
    await started?.close();
  });
  const get = (): SdkTarget => {
    if (!started) throw new Error(`SDK target ${label} is read before beforeAll started it`);
    return started;
  };
  return {
    get h() {
      return get().h;
    },
    get proxy() {
      return get().proxy;
    },
  };
}

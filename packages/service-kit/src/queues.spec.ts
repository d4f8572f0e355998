import { closeWithin } from './queues';

const never = () => new Promise<void>(() => undefined);

describe('closeWithin', () => {
  it('closes normally when close() settles in time', async () => {
    const disconnect = jest.fn(() => Promise.resolve());
    await closeWithin({ close: () => Promise.resolve(), disconnect }, 'queue', 50);
    expect(disconnect).not.toHaveBeenCalled();
  });

  it('disconnects after `ms` when close() hangs', async () => {
    const disconnect = jest.fn(() => Promise.resolve());
    await closeWithin({ close: never, disconnect }, 'worker', 50);
    expect(disconnect).toHaveBeenCalledTimes(1);
  });

  it('returns when close() and then disconnect() both hang, after about twice `ms`', async () => {
    const started = Date.now();
    await closeWithin({ close: never, disconnect: never }, 'worker', 50);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(90);
    expect(took).toBeLessThan(1000);
  });
});

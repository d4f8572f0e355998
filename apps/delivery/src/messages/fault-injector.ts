import { Inject, Injectable, Logger } from '@nestjs/common';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';

export const FAULT_POINTS = ['after-claim', 'after-provider-accept', 'before-status-publish'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** When a point fires: at its Nth pass in this process, or at each pass with a probability. */
type Trigger = { pass: number } | { probability: number };

export function parseFaults(spec: string): Map<FaultPoint, Trigger> {
  const faults = new Map<FaultPoint, Trigger>();
  for (const item of spec.split(',').filter(Boolean)) {
    const [point, value] = item.split(':') as [FaultPoint, string | undefined];
    if (!FAULT_POINTS.includes(point)) throw new Error(`DELIVERY_FAULTS: unknown point ${point}`);
    const n = value === undefined ? 1 : Number(value);
    if (!(n > 0) || (n > 1 && !Number.isInteger(n)))
      throw new Error(`DELIVERY_FAULTS: ${item}: a pass number (1, 2, ...) or a probability (0..1)`);
    faults.set(point, value?.includes('.') ? { probability: n } : { pass: n });
  }
  return faults;
}

/**
 * Deterministic crash points for the crash tests: the process kills itself with SIGKILL (no
 * shutdown hooks, no flush) exactly where a real crash would hurt most. Off unless DELIVERY_FAULTS
 * is set; refused in production.
 */
@Injectable()
export class FaultInjector {
  private readonly logger = new Logger(FaultInjector.name);
  private readonly faults: Map<FaultPoint, Trigger>;
  private readonly passes = new Map<FaultPoint, number>();

  constructor(@Inject(SERVICE_CONFIG) config: DeliveryConfig) {
    this.faults = parseFaults(config.DELIVERY_FAULTS);
    if (this.faults.size && config.NODE_ENV === 'production')
      throw new Error('DELIVERY_FAULTS is set but NODE_ENV is production: refusing to start');
    if (this.faults.size) this.logger.warn(`fault injection on: ${config.DELIVERY_FAULTS}`);
  }

  point(point: FaultPoint): void {
    const trigger = this.faults.get(point);
    if (!trigger) return;
    const pass = (this.passes.get(point) ?? 0) + 1;
    this.passes.set(point, pass);
    const fire = 'pass' in trigger ? pass === trigger.pass : Math.random() < trigger.probability;
    if (!fire) return;
    process.stderr.write(`fault injection: SIGKILL at ${point} (pass ${pass})\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}

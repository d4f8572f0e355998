import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { RequestFacts } from './tracking.service';

/** The client's IP (X-Forwarded-For aware: the app trusts its proxy) and the time of receipt. */
export const CurrentRequestFacts = createParamDecorator(
  (_: unknown, context: ExecutionContext): RequestFacts => {
    const request = context.switchToHttp().getRequest<{ ip?: string }>();
    return { ip: request.ip, receivedAt: new Date() };
  },
);

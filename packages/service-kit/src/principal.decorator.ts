import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from './api-key.guard';

/** The authenticated caller of a management endpoint (set by ApiKeyGuard). */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal =>
    context.switchToHttp().getRequest<{ principal: Principal }>().principal,
);

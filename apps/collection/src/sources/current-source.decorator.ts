import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { SourceContext } from './write-key.guard';

export const CurrentSource = createParamDecorator(
  (_: unknown, context: ExecutionContext): SourceContext =>
    context.switchToHttp().getRequest<{ source: SourceContext }>().source,
);

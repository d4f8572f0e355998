import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcSubjects, type ReplyOf, type RequestOf } from '@cdp/contracts';
import { JetStreamMessagePattern } from '@cdp/messaging';
import { ApiKeysService } from './api-keys.service';

type ApiKeysUsed = typeof RpcSubjects.apiKeysUsed;

/**
 * Every service's report of the management API keys it saw used (service-kit's ApiKeyUseReporter):
 * collection owns `api_keys`, so it alone writes their last use.
 */
@Controller()
export class ApiKeyUsesHandler {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @JetStreamMessagePattern(RpcSubjects.apiKeysUsed)
  async record(@Payload() request: RequestOf<ApiKeysUsed>): Promise<ReplyOf<ApiKeysUsed>> {
    return { recorded: await this.apiKeys.recordUses(request.workspaceId, request.uses) };
  }
}

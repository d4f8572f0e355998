import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ConsultationRecord, ContractRecord, recordBatch, TransactionRecord } from '@cdp/contracts';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  parseBody,
  queryInteger,
  type Principal,
  RequireScope,
} from '@cdp/service-kit';
import { OperationalService, type RecordKind, type RecordsResult } from './operational.service';

const ContractBatch = recordBatch(ContractRecord);
const TransactionBatch = recordBatch(TransactionRecord);
const ConsultationBatch = recordBatch(ConsultationRecord);

/** A batch where no record could be linked to a customer is a 400; otherwise 200 with the rejected ones. */
function answer(result: RecordsResult): RecordsResult {
  if (result.accepted === 0 && result.rejected.length)
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: 'No record was accepted',
      issues: result.rejected.flatMap((r) => r.issues),
    });
  return result;
}

/** Contracted-stage data pushed by operational systems (server to server, API key). */
@Controller('v1')
@UseGuards(ApiKeyGuard)
@RequireScope('customers:read')
export class OperationalController {
  constructor(private readonly operational: OperationalService) {}

  @RequireScope('operational:write')
  @Post('operational/contracts')
  @HttpCode(200)
  async contracts(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return answer(
      await this.operational.importContracts(p.workspaceId, parseBody(ContractBatch, body).records),
    );
  }

  @RequireScope('operational:write')
  @Post('operational/transactions')
  @HttpCode(200)
  async transactions(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return answer(
      await this.operational.importTransactions(p.workspaceId, parseBody(TransactionBatch, body).records),
    );
  }

  @RequireScope('operational:write')
  @Post('operational/consultations')
  @HttpCode(200)
  async consultations(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return answer(
      await this.operational.importConsultations(p.workspaceId, parseBody(ConsultationBatch, body).records),
    );
  }

  @Get('customers/:id/contracts')
  listContracts(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query('limit') limit?: string) {
    return this.list(p, id, 'contracts', limit);
  }

  @Get('customers/:id/transactions')
  listTransactions(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query('limit') limit?: string,
  ) {
    return this.list(p, id, 'transactions', limit);
  }

  @Get('customers/:id/consultations')
  listConsultations(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query('limit') limit?: string,
  ) {
    return this.list(p, id, 'consultations', limit);
  }

  private list(p: Principal, customerId: string, kind: RecordKind, limit: string | undefined) {
    return this.operational.list(
      p.workspaceId,
      customerId,
      kind,
      queryInteger(limit, 'limit', { min: 1, max: 500, default: 100 }),
    );
  }
}

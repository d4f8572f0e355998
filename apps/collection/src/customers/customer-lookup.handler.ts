import { Controller, GoneException, NotFoundException } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcSubjects, type ReplyOf, type RequestOf } from '@cdp/contracts';
import { JetStreamMessagePattern } from '@cdp/messaging';
import { ConsentsService } from '../consents/consents.service';
import { DevicesService } from '../devices/devices.service';
import { SuppressionService } from '../identity/suppressions.service';
import { CustomersService } from './customers.service';

type Lookup = typeof RpcSubjects.customerLookup;

/** An unknown or erased customer is not found; any other failure (Postgres down) is an error the caller retries. */
function notFoundOrGone(error: unknown): null {
  if (error instanceof NotFoundException || error instanceof GoneException) return null;
  throw error;
}

/** Core NATS request/reply look-up used by other services (e.g. campaign needs a recipient address: email, phone, push devices). */
@Controller()
export class CustomerLookupHandler {
  constructor(
    private readonly customers: CustomersService,
    private readonly consents: ConsentsService,
    private readonly suppressions: SuppressionService,
    private readonly devices: DevicesService,
  ) {}

  @JetStreamMessagePattern(RpcSubjects.customerLookup)
  async lookup(@Payload() request: RequestOf<Lookup>): Promise<ReplyOf<Lookup>> {
    const customer = request.customerId
      ? await this.customers.get(request.workspaceId, request.customerId).catch(notFoundOrGone)
      : request.identifier
        ? await this.customers.findByIdentifier(
            request.workspaceId,
            request.identifier.type,
            request.identifier.value,
          )
        : null;
    if (!customer) return { found: false };
    // What a sender must respect: campaign checks these before asking for a send.
    const [consents, restricted, pushTargets] = await Promise.all([
      this.consents.states(request.workspaceId, customer.id),
      this.suppressions.restricts(request.workspaceId, customer.customerCode),
      this.devices.pushTargets(request.workspaceId, customer.id),
    ]);
    return {
      found: true,
      customer: {
        id: customer.id,
        customerCode: customer.customerCode,
        lifecycleStage: customer.lifecycleStage,
        ...(customer.email && { email: customer.email }),
        ...(customer.email && customer.bouncedEmail === customer.email && { emailBounced: true }),
        ...(customer.phone && { phone: customer.phone }),
        traits: (customer.traits ?? {}) as Record<string, unknown>,
        consents,
        restricted,
        pushTargets,
      },
    };
  }
}

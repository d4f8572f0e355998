import { Injectable, Logger } from '@nestjs/common';
import { RpcSubjects, type ReplyOf } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { ConsentsService } from '../consents/consents.service';
import { CustomersService } from '../customers/customers.service';
import { DevicesService } from '../devices/devices.service';
import { SuppressionService } from '../identity/suppressions.service';
import { OperationalService } from '../operational/operational.service';

/** How many of each list the view shows (the paged endpoints have the rest). */
const RECENT = { events: 20, transactions: 10, consultations: 10 };
/** How long the view waits for analysis's segments and scores before answering without them. */
const ANALYSIS_TIMEOUT_MS = 2000;

type AnalysisPart = ReplyOf<typeof RpcSubjects.customerSegments>;

/**
 * The Customer 360 view: one customer as every touchpoint should see them, in one call: profile
 * and identities, consents and whether processing is restricted, contracts, recent transactions,
 * consultations and interactions, devices, and analysis's segments and scores (asked over NATS;
 * when analysis does not answer in time the view comes without them, listed in `unavailable`).
 */
@Injectable()
export class Customer360Service {
  private readonly logger = new Logger(Customer360Service.name);

  constructor(
    private readonly customers: CustomersService,
    private readonly consents: ConsentsService,
    private readonly suppressions: SuppressionService,
    private readonly operational: OperationalService,
    private readonly devices: DevicesService,
    private readonly publisher: JetStreamPublisher,
  ) {}

  async view(workspaceId: string, customerId: string) {
    // A merged id answers as its survivor; an erased customer is 410, an unknown one 404.
    const customer = await this.customers.get(workspaceId, customerId);
    const id = customer.id;
    const [consents, restricted, contracts, transactions, consultations, devices, timeline, analysis] =
      await Promise.all([
        this.consents.states(workspaceId, id),
        this.suppressions.restricts(workspaceId, customer.customerCode),
        this.operational.list(workspaceId, id, 'contracts', 100),
        this.operational.list(workspaceId, id, 'transactions', RECENT.transactions),
        this.operational.list(workspaceId, id, 'consultations', RECENT.consultations),
        this.devices.list(workspaceId, id),
        this.customers.timeline(workspaceId, id, RECENT.events),
        this.analysisOf(workspaceId, id),
      ]);
    return {
      customer,
      consents,
      restricted,
      contracts,
      recentTransactions: transactions,
      recentConsultations: consultations,
      devices,
      recentEvents: timeline.items,
      segments: analysis?.segments ?? null,
      // An analysis from before scores answers without them.
      scores: analysis?.scores ?? null,
      unavailable: [...(analysis ? [] : ['segments']), ...(analysis?.scores ? [] : ['scores'])],
    };
  }

  private async analysisOf(workspaceId: string, customerId: string): Promise<AnalysisPart | null> {
    try {
      return await this.publisher.request(
        RpcSubjects.customerSegments,
        { workspaceId, customerId },
        ANALYSIS_TIMEOUT_MS,
      );
    } catch (error) {
      this.logger.warn(
        `Customer 360 of ${customerId} without segments and scores: analysis did not answer (${error instanceof Error ? error.message : String(error)})`,
      );
      return null;
    }
  }
}

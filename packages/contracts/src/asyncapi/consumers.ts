import { RpcSubjects, Subjects, type EventSubject, type RpcSubject, type ServiceName } from '../subjects';

/** What one service takes from the bus besides what it produces (producers are named on each subject). */
export interface ServiceConsumption {
  /** Event subjects the service reads through its own durable JetStream consumer. */
  readonly receives: readonly EventSubject[];
  /** Request/reply subjects the service answers. */
  readonly answers: readonly RpcSubject[];
}

/**
 * Who consumes what. The AsyncAPI document (`receive` operations) and docs/events.md are generated from
 * this map, so a service that starts reading a subject adds it here in the same change.
 */
export const Consumers: Record<ServiceName, ServiceConsumption> = {
  collection: {
    receives: [
      Subjects.ingestAccepted,
      Subjects.ingestBatchAccepted,
      Subjects.deliveryStatus,
      Subjects.consentChanged,
    ],
    answers: [RpcSubjects.customerLookup, RpcSubjects.apiKeysUsed],
  },
  analysis: {
    receives: [
      Subjects.eventIngested,
      Subjects.profileUpdated,
      Subjects.identityMerged,
      Subjects.identityUnmerged,
      Subjects.customerErased,
      Subjects.scoreUpdated,
    ],
    answers: [RpcSubjects.customerSegments],
  },
  campaign: {
    receives: [Subjects.segmentEntered, Subjects.segmentExited, Subjects.customerErased],
    answers: [],
  },
  delivery: {
    receives: [
      Subjects.deliveryRequested,
      Subjects.segmentEntered,
      Subjects.segmentExited,
      Subjects.customerErased,
      Subjects.customerRestricted,
    ],
    answers: [],
  },
};

export const Services = Object.keys(Consumers) as ServiceName[];

/** Services that receive `subject` (matched by name and version), in the order of `Services`. */
export function consumersOf(subject: Pick<EventSubject, 'name' | 'version'>): ServiceName[] {
  return Services.filter((service) =>
    Consumers[service].receives.some((s) => s.name === subject.name && s.version === subject.version),
  );
}

/** Services that answer `rpc` (matched by name and version). */
export function respondersOf(rpc: Pick<RpcSubject, 'name' | 'version'>): ServiceName[] {
  return Services.filter((service) =>
    Consumers[service].answers.some((r) => r.name === rpc.name && r.version === rpc.version),
  );
}

/** Header names this package writes. */
export const CdpHeaders = {
  /** On every published event: `<subject name>/v<version>`. */
  Schema: 'Cdp-Schema',
  /** Dead letters: why the consumer gave up. */
  DlqReason: 'Cdp-Dlq-Reason',
  /** Dead letters: full subject the message was published on. */
  OriginalSubject: 'Cdp-Original-Subject',
  /** Dead letters: durable consumer name that gave up. */
  Consumer: 'Cdp-Consumer',
  /** Dead letters: delivery count when it gave up. */
  DeliveryCount: 'Cdp-Delivery-Count',
  /** Dead letters: stream sequence of the original message. */
  OriginalStreamSequence: 'Cdp-Original-Stream-Seq',
  /** Dead letters: Nats-Msg-Id of the original message, if it had one. */
  OriginalMsgId: 'Cdp-Original-Msg-Id',
  /** RPC error replies: the status, also in the body. */
  RpcError: 'Cdp-Rpc-Error',
  /** Set by NATS for deduplication. */
  MsgId: 'Nats-Msg-Id',
} as const;

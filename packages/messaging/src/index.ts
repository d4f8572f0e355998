export { JETSTREAM_TRANSPORT, MESSAGING_OPTIONS, type MessagingOptions } from './options';
export { MessagingUnavailableError, RpcError, type RpcErrorReply } from './errors';
export { CdpHeaders } from './headers';
export { JetStreamBatchContext, JetStreamContext, type JetStreamMessageInfo } from './jetstream-context';
export { JetStreamServer, type JetStreamServerEvents, type JetStreamServerStatus } from './jetstream-server';
export {
  JetStreamPublisher,
  type PublishItem,
  type PublishManyOptions,
  type PublishOptions,
  type PublishResult,
} from './jetstream-publisher';
export { MessagingModule } from './messaging.module';
export { durableName, DUPLICATE_WINDOW_MS } from './streams';
export {
  JetStreamBatchPattern,
  JetStreamEventPattern,
  JetStreamMessagePattern,
  type JetStreamBatchFailures,
  type JetStreamBatchOptions,
  type JetStreamEventOptions,
} from './decorators';

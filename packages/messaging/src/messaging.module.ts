import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { JetStreamPublisher } from './jetstream-publisher';
import { MESSAGING_OPTIONS, type MessagingOptions } from './options';

/**
 * `MessagingModule.forRoot(options)`: a global module providing a {@link JetStreamPublisher},
 * connected (streams ensured) on module init and drained on application shutdown, and the
 * options under {@link MESSAGING_OPTIONS}.
 */
@Global()
@Module({})
export class MessagingModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(JetStreamPublisher) private readonly publisher: JetStreamPublisher) {}

  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        {
          provide: JetStreamPublisher,
          useFactory: (o: MessagingOptions) => new JetStreamPublisher(o),
          inject: [MESSAGING_OPTIONS],
        },
      ],
      exports: [MESSAGING_OPTIONS, JetStreamPublisher],
    };
  }

  async onModuleInit(): Promise<void> {
    await this.publisher.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.close();
  }
}

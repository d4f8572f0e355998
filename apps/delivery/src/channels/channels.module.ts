import { Module } from '@nestjs/common';
import { ChannelRegistry } from './channel-registry';
import { SmtpEmailAdapter } from './smtp-email.adapter';

@Module({ providers: [ChannelRegistry, SmtpEmailAdapter], exports: [ChannelRegistry] })
export class ChannelsModule {}

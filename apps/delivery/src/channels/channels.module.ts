import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module';
import { ChannelRegistry } from './channel-registry';

@Module({ imports: [ProvidersModule], providers: [ChannelRegistry], exports: [ChannelRegistry] })
export class ChannelsModule {}

import { Injectable } from '@nestjs/common';
import type { ChannelAdapter, ChannelName } from './channel-adapter';
import { SmtpEmailAdapter } from './smtp-email.adapter';

/** Picks the adapter that sends a workspace's messages of one channel. */
@Injectable()
export class ChannelRegistry {
  constructor(private readonly smtp: SmtpEmailAdapter) {}

  /** Resolves to undefined when no provider is configured for the channel. */
  adapterFor(_workspaceId: string, channel: ChannelName): Promise<ChannelAdapter | undefined> {
    return Promise.resolve(channel === 'email' ? this.smtp : undefined);
  }
}

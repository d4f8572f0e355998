import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { DeliveryProviderRequest } from '@cdp/contracts';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';
import { ProvidersService, type ResolvedProvider } from '../providers/providers.service';
import type { ChannelAdapter, ChannelName } from './channel-adapter';
import { AccessTokenCache, FcmPushAdapter } from './fcm-push.adapter';
import { SendGridEmailAdapter } from './sendgrid-email.adapter';
import { SmtpEmailAdapter, smtpOptionsFromConfig } from './smtp-email.adapter';
import { TwilioSmsAdapter } from './twilio-sms.adapter';
import { WebhookAdapter } from './webhook.adapter';
import { WebPushAdapter } from './web-push.adapter';

/** The adapter of a workspace's provider account and that account's own send rate, if it set one. */
export interface ProviderAccount {
  adapter: ChannelAdapter;
  rateLimitPerSecond?: number;
}

type Settings<P extends ResolvedProvider['provider']> = DeliveryProviderRequest<P>['settings'] &
  DeliveryProviderRequest<P>['secrets'];

/**
 * Picks the adapter that sends a workspace's messages of one channel: the provider configured
 * through `PUT /v1/providers/:channel` (read again after PROVIDER_CACHE_TTL_MS or when it changes
 * in this process), else the environment's SMTP relay for email.
 */
@Injectable()
export class ChannelRegistry implements OnApplicationShutdown {
  private readonly envSmtp: SmtpEmailAdapter;
  private readonly cache = new Map<
    string,
    { account: Promise<ProviderAccount | undefined>; until: number }
  >();
  /** One SMTP pool per workspace, kept across cache refreshes while its settings stay the same. */
  private readonly smtpPools = new Map<string, { fingerprint: string; adapter: SmtpEmailAdapter }>();
  private readonly accessTokens = new AccessTokenCache();

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
    private readonly providers: ProvidersService,
  ) {
    this.envSmtp = new SmtpEmailAdapter(smtpOptionsFromConfig(config));
    providers.onChange((workspaceId, channel) => this.cache.delete(`${workspaceId}|${channel}`));
  }

  /** Resolves to undefined when no provider is configured for the channel. */
  async adapterFor(workspaceId: string, channel: ChannelName): Promise<ChannelAdapter | undefined> {
    return (await this.accountFor(workspaceId, channel))?.adapter;
  }

  /** The adapter with the account's rate; undefined when no provider is configured for the channel. */
  accountFor(workspaceId: string, channel: ChannelName): Promise<ProviderAccount | undefined> {
    const key = `${workspaceId}|${channel}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.account;
    const account = this.load(workspaceId, channel);
    this.cache.set(key, { account, until: Date.now() + this.config.PROVIDER_CACHE_TTL_MS });
    // A failed look-up (database down) is not cached: the next message tries again.
    account.catch(() => this.cache.delete(key));
    return account;
  }

  onApplicationShutdown(): void {
    this.envSmtp.close();
    for (const { adapter } of this.smtpPools.values()) adapter.close();
    this.smtpPools.clear();
  }

  private async load(workspaceId: string, channel: ChannelName): Promise<ProviderAccount | undefined> {
    const configured = await this.providers.resolve(workspaceId, channel);
    if (!configured) {
      this.closeSmtpPool(workspaceId);
      return channel === 'email' ? { adapter: this.envSmtp } : undefined;
    }
    // Switched away from SMTP: its pool has no more use.
    if (configured.provider !== 'smtp' && configured.channel === 'email') this.closeSmtpPool(workspaceId);
    const rate = configured.settings.rateLimitPerSecond;
    return {
      adapter: this.build(workspaceId, configured),
      ...(typeof rate === 'number' && { rateLimitPerSecond: rate }),
    };
  }

  private build(workspaceId: string, configured: ResolvedProvider): ChannelAdapter {
    const timeoutMs = this.config.PROVIDER_HTTP_TIMEOUT_MS;
    const all = { ...configured.settings, ...configured.secrets };
    switch (configured.provider) {
      case 'smtp':
        return this.smtpPool(workspaceId, all as Settings<'smtp'>);
      case 'sendgrid':
        return new SendGridEmailAdapter({ ...(all as Settings<'sendgrid'>), timeoutMs });
      case 'twilio':
        return new TwilioSmsAdapter({ ...(all as Settings<'twilio'>), timeoutMs });
      case 'webpush':
        return new WebPushAdapter({ ...(all as Settings<'webpush'>), timeoutMs });
      case 'fcm':
        return new FcmPushAdapter({ ...(all as Settings<'fcm'>), timeoutMs }, this.accessTokens);
      case 'webhook':
        return new WebhookAdapter({ ...(all as Settings<'webhook'>), timeoutMs });
    }
  }

  private smtpPool(workspaceId: string, settings: Settings<'smtp'>): SmtpEmailAdapter {
    const fingerprint = createHash('sha256').update(JSON.stringify(settings)).digest('hex');
    const current = this.smtpPools.get(workspaceId);
    if (current?.fingerprint === fingerprint) return current.adapter;
    this.closeSmtpPool(workspaceId);
    const adapter = new SmtpEmailAdapter({
      host: settings.host,
      port: settings.port,
      secure: settings.secure ?? false,
      ...(settings.user && { user: settings.user, password: settings.password ?? '' }),
      from: settings.from,
      poolSize: settings.poolSize ?? this.config.SMTP_POOL_SIZE,
    });
    this.smtpPools.set(workspaceId, { fingerprint, adapter });
    return adapter;
  }

  private closeSmtpPool(workspaceId: string): void {
    this.smtpPools.get(workspaceId)?.adapter.close();
    this.smtpPools.delete(workspaceId);
  }
}

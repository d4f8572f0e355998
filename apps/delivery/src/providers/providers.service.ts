import { Injectable, Logger, NotFoundException, type OnApplicationBootstrap } from '@nestjs/common';
import {
  DELIVERY_PROVIDER_NAMES,
  DeliveryProviderSchemas,
  type DeliveryProviderName,
  type DeliveryProviderView,
} from '@cdp/contracts';
import type { DeliveryProvider, Prisma } from '@cdp/db';
import { DatabaseService, invalidInput, parseBody } from '@cdp/service-kit';
import type { ChannelName } from '../channels/channel-adapter';
import { SecretBox, type SealedSecret } from './secret-box';

/** Channels whose provider a workspace configures here (ad audiences have their own settings). */
export const PROVIDER_CHANNELS = ['email', 'sms', 'push', 'webhook'] as const;
export type ProviderChannel = (typeof PROVIDER_CHANNELS)[number];

/** A workspace's provider with its secrets decrypted: in memory only. */
export interface ResolvedProvider {
  channel: ProviderChannel;
  provider: DeliveryProviderName;
  settings: Record<string, unknown>;
  secrets: Record<string, unknown>;
  updatedAt: Date;
}

const MASK = '********' as const;

@Injectable()
export class ProvidersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ProvidersService.name);
  private readonly changeListeners: ((workspaceId: string, channel: ChannelName) => void)[] = [];

  constructor(
    private readonly db: DatabaseService,
    private readonly secretBox: SecretBox,
  ) {}

  /** Called after a workspace's provider of a channel changed (caches drop it). */
  onChange(listener: (workspaceId: string, channel: ChannelName) => void): void {
    this.changeListeners.push(listener);
  }

  async put(workspaceId: string, channelParam: string, body: unknown): Promise<DeliveryProviderView> {
    const channel = this.channelOf(channelParam);
    const name = (body as { provider?: unknown } | null)?.provider;
    if (typeof name !== 'string' || !(DELIVERY_PROVIDER_NAMES as string[]).includes(name))
      throw invalidInput(
        '/provider',
        `must be one of ${DELIVERY_PROVIDER_NAMES.join(', ')}`,
        'Invalid request body',
      );
    const definition = DeliveryProviderSchemas[name as DeliveryProviderName];
    const request = parseBody(definition.schema, body);
    if (definition.channel !== channel)
      throw invalidInput(
        '/provider',
        `${name} sends ${definition.channel}, not ${channel}`,
        'Invalid request body',
      );

    const data = {
      provider: request.provider,
      settings: request.settings as Prisma.InputJsonObject,
      ...columnsOf(this.secretBox.seal(request.secrets)),
    };
    const row = await this.db.client.deliveryProvider.upsert({
      where: { workspaceId_channel: { workspaceId, channel } },
      create: { workspaceId, channel, ...data },
      update: data,
    });
    this.changed(workspaceId, channel);
    return this.view(row, Object.keys(request.secrets));
  }

  async list(workspaceId: string): Promise<DeliveryProviderView[]> {
    const rows = await this.db.client.deliveryProvider.findMany({
      where: { workspaceId },
      orderBy: { channel: 'asc' },
    });
    return rows.map((row) => this.view(row, this.secretNames(row)));
  }

  async remove(workspaceId: string, channelParam: string): Promise<void> {
    const channel = this.channelOf(channelParam);
    const { count } = await this.db.client.deliveryProvider.deleteMany({ where: { workspaceId, channel } });
    if (count === 0) throw new NotFoundException(`no ${channel} provider is configured`);
    this.changed(workspaceId, channel);
  }

  /** The provider a workspace configured for a channel, secrets decrypted; undefined if none. */
  async resolve(workspaceId: string, channel: ChannelName): Promise<ResolvedProvider | undefined> {
    if (!(PROVIDER_CHANNELS as readonly string[]).includes(channel)) return undefined;
    const row = await this.db.client.deliveryProvider.findUnique({
      where: { workspaceId_channel: { workspaceId, channel } },
    });
    if (!row) return undefined;
    return {
      channel: row.channel as ProviderChannel,
      provider: row.provider as DeliveryProviderName,
      settings: row.settings as Record<string, unknown>,
      secrets: this.secretBox.open(sealedOf(row)),
      updatedAt: row.updatedAt,
    };
  }

  /**
   * Runs at start: re-encrypts provider and audience secrets still under an older key, so after a
   * new key is put first in DELIVERY_SECRET_KEYS the old one can be dropped once every replica ran.
   */
  async onApplicationBootstrap(): Promise<void> {
    try {
      const count = await this.reencryptAll();
      if (count) this.logger.log(`re-encrypted ${count} secrets under key ${this.secretBox.currentKeyId}`);
    } catch (e) {
      // Not fatal: rows under an old key still decrypt while that key is listed.
      this.logger.warn(`re-encryption under the current key failed: ${(e as Error).message}`);
    }
  }

  /** Re-encrypts every secret not under the current key; returns how many rows changed. */
  async reencryptAll(): Promise<number> {
    const current = this.secretBox.currentKeyId;
    const where = { secretKeyId: { not: current } };
    let count = 0;
    for (const row of await this.db.client.deliveryProvider.findMany({ where })) {
      const data = columnsOf(this.secretBox.seal(this.secretBox.open(sealedOf(row))));
      await this.db.client.deliveryProvider.update({ where: { id: row.id }, data });
      count++;
    }
    for (const row of await this.db.client.adAudience.findMany({ where })) {
      const data = columnsOf(this.secretBox.seal(this.secretBox.open(sealedOf(row))));
      await this.db.client.adAudience.update({ where: { id: row.id }, data });
      count++;
    }
    return count;
  }

  private channelOf(value: string): ProviderChannel {
    if (!(PROVIDER_CHANNELS as readonly string[]).includes(value))
      throw invalidInput('/channel', `must be one of ${PROVIDER_CHANNELS.join(', ')}`, 'Invalid path');
    return value as ProviderChannel;
  }

  private secretNames(row: DeliveryProvider): string[] {
    try {
      return Object.keys(this.secretBox.open(sealedOf(row)));
    } catch {
      return []; // encrypted under a key no longer configured: the row must be saved again
    }
  }

  private view(row: DeliveryProvider, secretNames: string[]): DeliveryProviderView {
    return {
      channel: row.channel,
      provider: row.provider,
      settings: row.settings as Record<string, unknown>,
      secrets: Object.fromEntries(secretNames.map((n) => [n, MASK])),
      updatedAt: row.updatedAt.toISOString(),
    };
  }

  private changed(workspaceId: string, channel: ChannelName): void {
    for (const listener of this.changeListeners) listener(workspaceId, channel);
  }
}

export function sealedOf(row: {
  secretCiphertext: Uint8Array<ArrayBuffer>;
  secretIv: Uint8Array<ArrayBuffer>;
  secretAuthTag: Uint8Array<ArrayBuffer>;
  secretKeyId: string;
}): SealedSecret {
  return {
    ciphertext: row.secretCiphertext,
    iv: row.secretIv,
    authTag: row.secretAuthTag,
    keyId: row.secretKeyId,
  };
}

/** The table columns of a sealed secret (same names in every table that keeps one). */
export function columnsOf(sealed: SealedSecret) {
  return {
    secretCiphertext: sealed.ciphertext,
    secretIv: sealed.iv,
    secretAuthTag: sealed.authTag,
    secretKeyId: sealed.keyId,
  };
}

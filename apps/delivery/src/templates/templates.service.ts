import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { PreviewTemplateRequest, SaveTemplateRequest } from '@cdp/contracts';
import { Prisma, type Template } from '@cdp/db';
import { DatabaseService, SERVICE_CONFIG, invalidInput } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';
import { TemplateRenderer, type RenderedContent, type TemplateIssue } from './template-renderer';

function invalidTemplate(issues: TemplateIssue[]): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: 'Invalid template',
    issues,
  });
}

@Injectable()
export class TemplatesService {
  constructor(
    private readonly db: DatabaseService,
    private readonly renderer: TemplateRenderer,
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
  ) {}

  async create(workspaceId: string, request: SaveTemplateRequest): Promise<Template> {
    this.validate(request);
    return this.unique(() =>
      this.db.client.template.create({ data: { workspaceId, ...this.columns(request) } }),
    );
  }

  async update(workspaceId: string, id: string, request: SaveTemplateRequest): Promise<Template> {
    await this.get(workspaceId, id);
    this.validate(request);
    return this.unique(() =>
      this.db.client.template.update({
        where: { id },
        data: { ...this.columns(request), version: { increment: 1 } },
      }),
    );
  }

  async get(workspaceId: string, id: string): Promise<Template> {
    const template = await this.db.client.template.findFirst({ where: { id, workspaceId } });
    if (!template) throw new NotFoundException(`template ${id} not found`);
    return template;
  }

  list(workspaceId: string): Promise<Template[]> {
    return this.db.client.template.findMany({
      where: { workspaceId },
      orderBy: [{ name: 'asc' }, { channel: 'asc' }, { locale: 'asc' }],
      take: 1000,
    });
  }

  async preview(workspaceId: string, id: string, request: PreviewTemplateRequest): Promise<RenderedContent> {
    const template = await this.get(workspaceId, id);
    try {
      return this.renderer.renderAll(template, request.variables);
    } catch (e) {
      throw invalidInput(
        '/variables',
        (e as Error).message,
        'The template cannot be rendered with these variables',
      );
    }
  }

  /**
   * The variant of a stored template for a locale: the exact locale, else its language
   * (`de` for `de-CH`), else the fallback locale, else the variant the id names.
   */
  async variantFor(
    workspaceId: string,
    id: string,
    locale: string | undefined,
  ): Promise<Template | undefined> {
    const named = await this.db.client.template.findFirst({ where: { id, workspaceId } });
    if (!named) return undefined;
    const variants = await this.db.client.template.findMany({
      where: { workspaceId, name: named.name, channel: named.channel },
    });
    const wanted = [locale, locale?.split('-')[0], this.config.DELIVERY_FALLBACK_LOCALE].filter(
      (l): l is string => !!l,
    );
    for (const l of wanted) {
      const match = variants.find((v) => v.locale.toLowerCase() === l.toLowerCase());
      if (match) return match;
    }
    return named;
  }

  /** One variant per name, channel and locale: a second one is the caller's mistake, not a 500. */
  private async unique(write: () => Promise<Template>): Promise<Template> {
    try {
      return await write();
    } catch (e) {
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002')
        throw invalidInput(
          '/locale',
          'a template with this name, channel and locale exists; PUT to change it',
        );
      throw e;
    }
  }

  private validate(request: SaveTemplateRequest): void {
    const issues = this.renderer.check(request, request.sample);
    if (issues.length) throw invalidTemplate(issues);
  }

  private columns(request: SaveTemplateRequest) {
    return {
      name: request.name,
      channel: request.channel,
      locale: request.locale,
      subject: request.subject ?? null,
      body: request.body,
      html: request.html ?? null,
      sample: request.sample as Prisma.InputJsonValue,
    };
  }
}

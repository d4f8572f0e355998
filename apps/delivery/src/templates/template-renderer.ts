import { Injectable } from '@nestjs/common';
import { Liquid, type Template } from 'liquidjs';

export interface TemplateSource {
  subject?: string | null;
  body: string;
  html?: string | null;
}

export interface RenderedContent {
  subject?: string;
  text: string;
  html?: string;
}

/** One problem in a template, at a JSON-pointer path of the request (e.g. `/body`). */
export interface TemplateIssue {
  path: string;
  reason: string;
}

const FIELDS = ['subject', 'body', 'html'] as const;
/** Liquid properties every array (and string) has without the sample listing them. */
const BUILT_IN = new Set(['size', 'first', 'last']);
const PARSED_CACHE_SIZE = 1000;

/** Liquid templates; a reference to a missing variable is an error, never an empty string in a customer's inbox. */
@Injectable()
export class TemplateRenderer {
  private readonly liquid = new Liquid({ strictVariables: true, strictFilters: true });
  /**
   * Parsed templates by source. Liquid's own cache only covers template files, so a campaign's
   * inline template was parsed again for every recipient (a visible share of the CPU per message).
   */
  private readonly parsed = new Map<string, Template[]>();

  /**
   * Renders synchronously: none of our tags or filters waits for anything, and Liquid's async
   * render wraps every node in a promise (a visible share of the CPU per message).
   */
  render(source: string, variables: Record<string, unknown>): string {
    let templates = this.parsed.get(source);
    if (!templates) {
      templates = this.liquid.parse(source);
      // Oldest out first: a bounded cache, however many distinct templates go through.
      if (this.parsed.size >= PARSED_CACHE_SIZE) this.parsed.delete(this.parsed.keys().next().value!);
      this.parsed.set(source, templates);
    }
    return this.liquid.renderSync(templates, variables) as string;
  }

  /** Subject, text and HTML of a template; throws on the first one that cannot be rendered. */
  renderAll(template: TemplateSource, variables: Record<string, unknown>): RenderedContent {
    return {
      ...(template.subject && { subject: this.render(template.subject, variables) }),
      text: this.render(template.body, variables),
      ...(template.html && { html: this.render(template.html, variables) }),
    };
  }

  /**
   * Problems found at save time: Liquid syntax errors, unknown filters, and references to a
   * variable the sample does not declare (which would fail every send with strictVariables).
   */
  check(template: TemplateSource, sample: Record<string, unknown>): TemplateIssue[] {
    const issues: TemplateIssue[] = [];
    for (const field of FIELDS) {
      const source = template[field];
      if (!source) continue;
      try {
        const parsed = this.liquid.parse(source);
        for (const segments of this.liquid.globalVariableSegmentsSync(parsed)) {
          const missing = missingPath(sample, segments);
          if (missing)
            issues.push({ path: `/${field}`, reason: `variable "${missing}" is not declared in the sample` });
        }
      } catch (e) {
        issues.push({ path: `/${field}`, reason: `Liquid: ${(e as Error).message}` });
      }
    }
    return issues;
  }
}

/** The first prefix of a variable path that the sample lacks, or undefined when it is all there. */
function missingPath(sample: unknown, segments: readonly unknown[]): string | undefined {
  let value: unknown = sample;
  const walked: string[] = [];
  for (const segment of segments) {
    // A dynamic index ({{ a[b] }}) cannot be checked statically; the part before it was.
    if (typeof segment !== 'string' && typeof segment !== 'number') return undefined;
    walked.push(String(segment));
    if (Array.isArray(value) || typeof value === 'string') {
      if (BUILT_IN.has(String(segment))) return undefined;
      value = Array.isArray(value) ? value[0] : undefined;
      if (typeof segment === 'number') continue;
    }
    if (value === null || typeof value !== 'object' || !(String(segment) in value)) return walked.join('.');
    value = (value as Record<string, unknown>)[String(segment)];
  }
  return undefined;
}

import { Injectable } from '@nestjs/common';
import { Liquid } from 'liquidjs';

/** Liquid templates; a reference to a missing variable is an error, never an empty string in a customer's inbox. */
@Injectable()
export class TemplateRenderer {
  private readonly liquid = new Liquid({ strictVariables: true, strictFilters: true, cache: 1000 });

  render(source: string, variables: Record<string, unknown>): Promise<string> {
    return this.liquid.parseAndRender(source, variables) as Promise<string>;
  }
}

import { Type, type Static } from '@sinclair/typebox';
import { DeliveryChannel } from '../payloads/common';

const Liquid = (max: number, description: string) => Type.String({ maxLength: max, description });

export const SaveTemplateRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    channel: DeliveryChannel,
    locale: Type.String({
      pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
      description: 'BCP 47 locale, e.g. en or de-CH',
    }),
    subject: Type.Optional(Liquid(998, 'Subject line (Liquid)')),
    body: Type.String({ minLength: 1, maxLength: 100_000, description: 'Plain-text body (Liquid)' }),
    html: Type.Optional(Liquid(500_000, 'HTML body (Liquid)')),
    sample: Type.Record(Type.String(), Type.Unknown(), {
      description:
        'Sample variables: declares the variables the template may use; a reference to anything not in it is refused',
    }),
  },
  { additionalProperties: false },
);
export type SaveTemplateRequest = Static<typeof SaveTemplateRequest>;

export const PreviewTemplateRequest = Type.Object(
  { variables: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: false },
);
export type PreviewTemplateRequest = Static<typeof PreviewTemplateRequest>;

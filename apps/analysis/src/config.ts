import { Type, type Static } from '@sinclair/typebox';
import { configSchema } from '@cdp/service-kit';

export const AnalysisConfigSchema = configSchema(3002, {
  CUSTOMER_VALUE_HALF_LIFE_DAYS: Type.Number({
    exclusiveMinimum: 0,
    maximum: 3650,
    default: 30,
    description:
      'customer_value score: days after which an event (and its revenue) counts half as much as a new one',
  }),
  CUSTOMER_VALUE_EVENTS_MIDPOINT: Type.Number({
    exclusiveMinimum: 0,
    default: 10,
    description: 'customer_value score: decayed event count at which the frequency part is half its maximum',
  }),
  CUSTOMER_VALUE_REVENUE_MIDPOINT: Type.Number({
    exclusiveMinimum: 0,
    default: 1000,
    description:
      "customer_value score: decayed revenue, in the workspaces' currency, at which the monetary part is half its maximum",
  }),
});

export type AnalysisConfig = Static<typeof AnalysisConfigSchema>;

import { Type, type Static } from '@sinclair/typebox';

/**
 * PUT /v1/scores/customer-value/parameters: the workspace's parameters of the customer_value
 * score, instead of the deployment's defaults (CUSTOMER_VALUE_* variables of analysis).
 */
export const CustomerValueParametersRequest = Type.Object(
  {
    halfLifeDays: Type.Number({
      exclusiveMinimum: 0,
      maximum: 3650,
      description: 'Days after which an event and its revenue count half as much as a new one',
    }),
    eventsMidpoint: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1_000_000,
      description: 'Decayed event count at which the frequency part is half its maximum',
    }),
    revenueMidpoint: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1e15,
      description:
        "Decayed revenue, in the workspace's currency, at which the monetary part is half its maximum",
    }),
  },
  { additionalProperties: false },
);
export type CustomerValueParametersRequest = Static<typeof CustomerValueParametersRequest>;

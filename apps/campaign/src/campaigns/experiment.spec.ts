import { randomUUID } from 'node:crypto';
import { assignmentOf, DEFAULT_VARIANT, type Assignment } from './experiment';

const template = { subject: 'Hi', body: 'Hello' };
const variants = [
  { name: 'A', weight: 3, template: { subject: 'A', body: 'a' } },
  { name: 'B', weight: 1, template: { subject: 'B', body: 'b' } },
];
const groupOf = (a: Assignment) => (a.holdout ? 'holdout' : a.variant);

describe('campaign experiments', () => {
  const customers = Array.from({ length: 20_000 }, () => randomUUID());
  const shares = (campaign: Parameters<typeof assignmentOf>[0]) => {
    const counts: Record<string, number> = {};
    for (const id of customers) {
      const group = groupOf(assignmentOf(campaign, template, id));
      counts[group] = (counts[group] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, n / customers.length]));
  };

  it('splits customers by weight after the control group', () => {
    const split = shares({ id: randomUUID(), holdoutPercent: 20, variants });
    expect(split.holdout).toBeCloseTo(0.2, 1);
    expect(split.A).toBeCloseTo(0.6, 1);
    expect(split.B).toBeCloseTo(0.2, 1);
  });

  it('sends the one template to all but the control group without variants', () => {
    expect(shares({ id: randomUUID(), holdoutPercent: 0, variants: undefined })).toEqual({
      [DEFAULT_VARIANT]: 1,
    });
    const split = shares({ id: randomUUID(), holdoutPercent: 10, variants: undefined });
    expect(split.holdout).toBeCloseTo(0.1, 1);
    expect(split[DEFAULT_VARIANT]).toBeCloseTo(0.9, 1);
  });

  it('keeps a customer in one group per campaign, and draws anew for another campaign', () => {
    const campaign = { id: randomUUID(), holdoutPercent: 20, variants };
    for (const id of customers.slice(0, 100))
      expect(assignmentOf(campaign, template, id)).toEqual(assignmentOf(campaign, template, id));
    const other = { ...campaign, id: randomUUID() };
    const moved = customers.filter(
      (id) => groupOf(assignmentOf(campaign, template, id)) !== groupOf(assignmentOf(other, template, id)),
    );
    expect(moved.length).toBeGreaterThan(customers.length / 4);
  });

  it("gives each variant's own template", () => {
    const campaign = { id: randomUUID(), holdoutPercent: 0, variants };
    for (const id of customers.slice(0, 200)) {
      const a = assignmentOf(campaign, template, id);
      if (!a.holdout) expect(a.template.subject).toBe(a.variant);
    }
  });
});

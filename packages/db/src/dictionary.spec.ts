import { readFile } from 'node:fs/promises';
import {
  DICTIONARY_PATH,
  findDocumentationProblems,
  normalizeMarkdown,
  OVERALL_OWNER_DEPARTMENT,
  OWNER_SERVICES,
  parseModelDocumentation,
  parseSchemaDoc,
  readSchemaDoc,
  renderDataDictionary,
  type SchemaDoc,
} from './dictionary';

const REQUIRED_MODELS = [
  'Workspace',
  'Source',
  'ApiKey',
  'Customer',
  'Identity',
  'Event',
  'EventMessageId',
  'Contract',
  'AccountTransaction',
  'Consultation',
  'Consent',
  'DeviceToken',
  'WebPushSubscription',
  'Segment',
  'SegmentMembership',
  'Score',
  'CustomerActivity',
  'ScoredEvent',
  'SegmentEventHit',
  'RestrictedCustomer',
  'ProfileSnapshot',
  'ScoreParameters',
  'Persona',
  'PersonaAssignment',
  'Campaign',
  'CampaignRun',
  'FrequencyCap',
  'CampaignSend',
  'HeldTrigger',
  'CampaignAssignment',
  'Message',
  'MessageProviderId',
  'DeliveryProvider',
  'AdAudience',
  'DeadLetter',
  'Template',
  'AuditLog',
  'IdentityRuleSet',
  'CustomerErasure',
  'CustomerRestriction',
  'SuppressedIdentifier',
  'AdAudienceMember',
  'CustomerMerge',
  'IdentityConflict',
  'TrackingPlanRule',
  'TrackingPlanPolicy',
  'TrackingPlanViolation',
  'EventDictionaryEntry',
];

describe('data dictionary (prisma/schema.prisma doc comments)', () => {
  let doc: SchemaDoc;
  beforeAll(async () => {
    doc = await readSchemaDoc();
  });

  it('defines every required model', () => {
    expect(doc.tables.map((t) => t.model).sort()).toEqual([...REQUIRED_MODELS].sort());
  });

  it('documents every model and field, and gives every model an owner and a department', () => {
    expect(findDocumentationProblems(doc)).toEqual([]);
    for (const t of doc.tables) {
      expect(t.description).not.toBe('');
      expect(OWNER_SERVICES).toContain(t.owner);
      expect(t.department).toMatch(/\S/);
      for (const c of t.columns) expect(c.definition).not.toBe('');
      for (const r of t.relations) expect(r.definition).not.toBe('');
    }
  });

  it('uses snake_case tables and columns and puts workspace_id on every row but workspaces', () => {
    for (const t of doc.tables) {
      expect(t.table).toMatch(/^[a-z][a-z0-9_]*$/);
      for (const c of t.columns) expect(c.column).toMatch(/^[a-z][a-z0-9_]*$/);
      for (const c of t.columns.filter((c) => c.type.startsWith('timestamp')))
        expect(c.type).toBe('timestamptz(3)');
      if (t.model !== 'Workspace') expect(t.columns.map((c) => c.column)).toContain('workspace_id');
    }
  });

  it('assigns the accountable departments', () => {
    const dept = Object.fromEntries(doc.tables.map((t) => [t.model, `${t.owner}/${t.department}`]));
    expect(dept.Customer).toBe(`collection/${OVERALL_OWNER_DEPARTMENT}`);
    expect(dept.Segment).toBe('analysis/Data & Analytics');
    expect(dept.Campaign).toBe('campaign/Marketing Operations');
    expect(dept.Message).toBe('delivery/Digital Channels');
  });

  it('reports undocumented models, fields and bad owner lines', async () => {
    const bad = await parseSchemaDoc(`
      datasource db {
        provider = "postgresql"
        url      = "postgresql://localhost/x"
      }
      /// Documented, but no owner line.
      model A {
        /// Key.
        id String @id
        name String
      }
      /// Has an owner that is not a service.
      /// @owner marketing @department Someone
      model B {
        /// Key.
        id String @id
      }
      model C {
        /// Key.
        id String @id
      }
    `);
    expect(findDocumentationProblems(bad)).toEqual([
      'model A: doc comment must end with "/// @owner <service> @department <department>"',
      'field A.name: no description (/// comment above the field)',
      'model B: @owner "marketing" is not one of collection|analysis|campaign|delivery',
      'model C: no description (/// comment above the model)',
      'model C: doc comment must end with "/// @owner <service> @department <department>"',
    ]);
  });

  it('parses the owner line', () => {
    expect(
      parseModelDocumentation('Line one\nline two.\n@owner delivery @department Digital Channels'),
    ).toEqual({
      description: 'Line one line two.',
      owner: 'delivery',
      department: 'Digital Channels',
    });
  });

  it('matches docs/data-dictionary.md (regenerate with `pnpm --filter @cdp/db dictionary`)', async () => {
    const file = await readFile(DICTIONARY_PATH, 'utf8');
    expect(normalizeMarkdown(file)).toBe(normalizeMarkdown(renderDataDictionary(doc)));
  });
});

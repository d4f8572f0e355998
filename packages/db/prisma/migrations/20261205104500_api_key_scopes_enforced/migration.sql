-- API-key scopes are enforced from this version on; before, any key of a workspace could call every
-- management endpoint. Keys created without scopes keep that access explicitly, as `admin`.
UPDATE "api_keys" SET "scopes" = ARRAY['admin'] WHERE cardinality("scopes") = 0;

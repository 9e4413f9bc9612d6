-- The wallet schema. Its tables arrive with the issues that build this service.
CREATE SCHEMA IF NOT EXISTS wallet;

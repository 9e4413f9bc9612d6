-- The calendar schema. Its tables arrive with the issues that build this service.
CREATE SCHEMA IF NOT EXISTS calendar;

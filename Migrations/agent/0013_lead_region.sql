-- Assignment by region (issue 14: "rules by tag, region, language"): a lead's region (a city or area, as the tenant
-- names them: Nairobi, Kigali, Mombasa) and the regions a person on duty covers; none covered means any.
ALTER TABLE agent.leads ADD COLUMN region text CHECK (length(region) BETWEEN 1 AND 100);
ALTER TABLE agent.assignment_members ADD COLUMN regions text[] NOT NULL DEFAULT '{}';

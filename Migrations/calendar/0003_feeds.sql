-- A secret feed URL per agent (RFC 5545, subscribed to by calendar apps that send no token): only the SHA-256 of the
-- token is kept, so a database read does not leak working feed URLs; a new token replaces the old one.
ALTER TABLE calendar.agents ADD COLUMN feed_token_hash text CHECK (feed_token_hash ~ '^[0-9a-f]{64}$');
CREATE UNIQUE INDEX agents_feed_token ON calendar.agents (feed_token_hash) WHERE feed_token_hash IS NOT NULL;

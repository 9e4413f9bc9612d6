-- A language model's extraction of a conversation's features is a call like any other: recorded with its tokens and
-- cost (`call_type` `extraction`), so the tenant's costs and daily analytics count it.
ALTER TABLE agent.llm_calls DROP CONSTRAINT llm_calls_call_type_check;
ALTER TABLE agent.llm_calls ADD CONSTRAINT llm_calls_call_type_check CHECK (call_type IN ('chat', 'tool_round', 'embedding', 'extraction'));

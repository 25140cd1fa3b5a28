-- xinyong store, schema version 6 on PostgreSQL: append-only enforced by the database too. Records,
-- amendments, the audit log, cases, their decisions, notices, deliveries and keys are never updated or
-- deleted by the platform; a trigger refuses UPDATE, DELETE and TRUNCATE on them for every role that
-- is not the table owner acting with the triggers disabled, so a bug or a stolen application login
-- cannot rewrite history quietly.
CREATE OR REPLACE FUNCTION xinyong_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'xinyong: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege'; END $$;
CREATE OR REPLACE TRIGGER records_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON records FOR EACH STATEMENT EXECUTE FUNCTION xinyong_append_only();
CREATE OR REPLACE TRIGGER amendments_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON amendments FOR EACH STATEMENT EXECUTE FUNCTION xinyong_append_only();
CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION xinyong_append_only();
CREATE OR REPLACE TRIGGER cases_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON cases FOR EACH STATEMENT EXECUTE FUNCTION xinyong_append_only();
CREATE OR REPLACE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON case_events FOR EACH STATEMENT EXECUTE FUNCTION xinyong_append_only();
CREATE OR REPLACE TRIGGER notices_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON notices FOR EACH STATEMENT EXECUTE FUNCTION xinyong_append_only();
CREATE OR REPLACE TRIGGER notice_deliveries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON notice_deliveries FOR EACH STATEMENT EXECUTE FUNCTION xinyong_append_only();
CREATE OR REPLACE TRIGGER api_keys_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION xinyong_append_only();
CREATE OR REPLACE TRIGGER api_key_revocations_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON api_key_revocations FOR EACH STATEMENT EXECUTE FUNCTION xinyong_append_only();

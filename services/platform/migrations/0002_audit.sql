-- Append-only, hash-chained audit log, one chain per county (see src/audit.rs).
-- The verifier in src/audit.rs is the real check; the triggers here make tampering need a
-- superuser who disables them, and keep a buggy writer from forking or skipping the chain.

CREATE TABLE audit_log (
    county     text        NOT NULL,
    seq        bigint      NOT NULL CHECK (seq >= 1),
    entity     text        NOT NULL,   -- e.g. 'suggestion', 'ballot', 'points'
    entity_id  text        NOT NULL,
    action     text        NOT NULL,
    actor_id   text        NOT NULL,
    from_state text        NOT NULL,
    to_state   text        NOT NULL,
    detail     jsonb       NOT NULL,
    at         timestamptz NOT NULL,
    prev_hash  text        NOT NULL,
    hash       text        NOT NULL,
    PRIMARY KEY (county, seq)
);
-- An entity's history: list(county, entity_id) in seq order.
CREATE INDEX audit_log_entity ON audit_log (county, entity_id, seq);

-- The last entry of each county's chain. Appenders lock this row, which serialises appends
-- per county, and the verifier compares it with the chain's end (a deleted tail shows).
CREATE TABLE audit_heads (
    county text   PRIMARY KEY,
    seq    bigint NOT NULL CHECK (seq >= 0),   -- 0: no entries yet
    hash   text   NOT NULL                     -- hash of entry `seq`, the genesis hash for 0
);

-- Entries are never changed or removed.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- A new entry must extend its county's chain: next seq, linked to the previous hash.
-- (Appenders hold the head lock, so the previous entry is committed or their own.)
CREATE FUNCTION audit_log_check_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous text;
BEGIN
    IF NEW.seq = 1 THEN
        previous := repeat('0', 64);
    ELSE
        SELECT hash INTO previous FROM audit_log WHERE county = NEW.county AND seq = NEW.seq - 1;
    END IF;
    IF previous IS DISTINCT FROM NEW.prev_hash THEN
        RAISE EXCEPTION 'audit_log entry %/% does not extend the chain', NEW.county, NEW.seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_linked BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_check_link();

-- A head starts empty and only moves forward by one, onto the entry just appended.
CREATE FUNCTION audit_heads_check_advance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.seq <> 0 OR NEW.hash <> repeat('0', 64) THEN
            RAISE EXCEPTION 'audit_heads: a new head starts at 0' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'audit_heads: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.county <> OLD.county OR NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
        SELECT 1 FROM audit_log
        WHERE county = NEW.county AND seq = NEW.seq AND hash = NEW.hash AND prev_hash = OLD.hash
    ) THEN
        RAISE EXCEPTION 'audit_heads: % may only advance to its next entry', OLD.county
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_heads_advance BEFORE INSERT OR UPDATE OR DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_heads_check_advance();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_heads_check_advance();

-- Platform tables, present in every service's database. Versions 1..=999 belong to the
-- platform; a service's own migrations start at 1000 (see docs/ARCHITECTURE.md).

-- Transactional outbox: written in the same transaction as the state change it announces.
CREATE TABLE outbox (
    id           uuid PRIMARY KEY,          -- UUIDv7, becomes ce_id
    county       text        NOT NULL,
    topic        text        NOT NULL,
    message_key  text        NOT NULL,      -- aggregate id
    event_type   text        NOT NULL,      -- ce_type, the protobuf full name
    source       text        NOT NULL,      -- ce_source
    payload      bytea       NOT NULL,
    traceparent  text,
    occurred_at  timestamptz NOT NULL,
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Wake the relay as soon as a transaction with outbox rows commits.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('renda_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Inbox: one row per consumed event, committed with the event's effects.
CREATE TABLE inbox (
    consumer_group text        NOT NULL,
    event_id       text        NOT NULL,    -- ce_id
    event_type     text        NOT NULL,
    topic          text        NOT NULL,
    partition      integer     NOT NULL,
    "offset"       bigint      NOT NULL,
    processed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);

-- Messages a consumer could not apply after bounded retries, kept with the error.
CREATE TABLE dead_letters (
    id             uuid PRIMARY KEY,
    consumer_group text        NOT NULL,
    topic          text        NOT NULL,
    partition      integer     NOT NULL,
    "offset"       bigint      NOT NULL,
    event_id       text,
    event_type     text,
    message_key    bytea,
    headers        jsonb       NOT NULL,
    payload        bytea,
    error          text        NOT NULL,
    attempts       integer     NOT NULL,
    failed_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer_group, topic, partition, "offset")
);

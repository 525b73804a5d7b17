-- Items in recipients' inboxes. A recipient is `role:<role>` (everyone with that role in
-- the county, e.g. the congress staff) or `user:<sub>`. One item per source event and recipient.
CREATE TABLE inbox_items (
    id              uuid PRIMARY KEY,
    county          text        NOT NULL,
    recipient       text        NOT NULL,
    title           text        NOT NULL,
    body            text        NOT NULL,
    source_type     text        NOT NULL,
    subject_id      text        NOT NULL,
    source_event_id text        NOT NULL,
    created_at      timestamptz NOT NULL,
    read_at         timestamptz,
    UNIQUE (source_event_id, recipient)
);
CREATE INDEX inbox_items_by_recipient ON inbox_items (county, recipient, id DESC);

-- Per county and year, the last number handed out. Incremented inside the submitting
-- transaction, so a rolled-back submission gives its number back: numbers have no gaps.
CREATE TABLE suggestion_numbers (
    county      text    NOT NULL,
    year        integer NOT NULL,
    last_number integer NOT NULL,
    PRIMARY KEY (county, year)
);

CREATE TABLE suggestions (
    id           uuid PRIMARY KEY,            -- UUIDv7
    county       text        NOT NULL,
    year         integer     NOT NULL,
    seq          integer     NOT NULL,
    number       text        NOT NULL,        -- 德清〔2026〕第0001号
    kind         text        NOT NULL,
    state        text        NOT NULL,
    title        text        NOT NULL,
    content      text        NOT NULL,
    category     text        NOT NULL,
    deputy_id    text        NOT NULL,
    deputy_name  text        NOT NULL,
    request_id   text,                        -- the client's idempotency key
    submitted_at timestamptz NOT NULL,
    version      integer     NOT NULL DEFAULT 1,
    UNIQUE (county, year, seq),
    UNIQUE (county, deputy_id, request_id)
);
CREATE INDEX suggestions_by_county ON suggestions (county, id DESC);
CREATE INDEX suggestions_by_deputy ON suggestions (county, deputy_id, id DESC);

-- Opinion records from every source, personal data already masked in `content`.
CREATE TABLE opinions (
    id          uuid PRIMARY KEY,
    county      text        NOT NULL,
    source      text        NOT NULL,
    content     text        NOT NULL,
    received_at timestamptz NOT NULL
);
CREATE INDEX opinions_by_county ON opinions (county, id DESC);

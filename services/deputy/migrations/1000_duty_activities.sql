-- A deputy's recorded duty activities (履职记录). One activity per (kind, reference) in a
-- county: the same fact announced twice records one activity.
CREATE TABLE duty_activities (
    id           uuid PRIMARY KEY,
    county       text        NOT NULL,
    deputy_id    text        NOT NULL,
    deputy_name  text        NOT NULL,
    kind         text        NOT NULL,
    summary      text        NOT NULL,
    reference_id text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (county, kind, reference_id)
);
CREATE INDEX duty_activities_by_deputy ON duty_activities (county, deputy_id, id DESC);
CREATE INDEX duty_activities_by_county ON duty_activities (county, id DESC);

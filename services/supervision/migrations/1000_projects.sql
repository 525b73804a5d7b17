-- Livelihood projects (民生实事) proposed for a county's yearly ballot.
CREATE TABLE projects (
    id         uuid PRIMARY KEY,
    county     text        NOT NULL,
    year       integer     NOT NULL,
    title      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_by_county ON projects (county, id DESC);

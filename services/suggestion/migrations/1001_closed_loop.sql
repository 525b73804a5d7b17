-- The closed loop: drafts, co-signers, origins, assignments, progress, extensions,
-- replies, evaluations, reminders, county policy, agencies, routing rules, holidays.

ALTER TABLE suggestions
    ALTER COLUMN year DROP NOT NULL,
    ALTER COLUMN seq DROP NOT NULL,
    ALTER COLUMN number DROP NOT NULL,
    ALTER COLUMN submitted_at DROP NOT NULL,
    ADD COLUMN co_signers       text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN origin_source    text,
    ADD COLUMN origin_reference text,
    ADD COLUMN origin_note      text,
    ADD COLUMN is_key           boolean     NOT NULL DEFAULT false,
    ADD COLUMN merged_into      uuid REFERENCES suggestions (id),
    ADD COLUMN reason           text,
    ADD COLUMN proposed_agency  text,
    ADD COLUMN created_at       timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now();
UPDATE suggestions SET created_at = submitted_at WHERE submitted_at IS NOT NULL;
CREATE INDEX suggestions_by_state ON suggestions (county, state);
CREATE INDEX suggestions_co_signers ON suggestions USING gin (co_signers);

-- Agencies (承办单位) of a county; agency users' tokens carry the code.
CREATE TABLE agencies (
    county text    NOT NULL,
    code   text    NOT NULL,
    name   text    NOT NULL,
    active boolean NOT NULL DEFAULT true,
    PRIMARY KEY (county, code)
);

-- One row per 交办; the current one has active = true.
CREATE TABLE assignments (
    id               uuid PRIMARY KEY,
    suggestion_id    uuid        NOT NULL REFERENCES suggestions (id),
    county           text        NOT NULL,
    round            integer     NOT NULL,
    lead_agency      text        NOT NULL,
    co_agencies      text[]      NOT NULL DEFAULT '{}',
    assigned_at      timestamptz NOT NULL,
    assigned_on      date        NOT NULL,   -- county-local date the deadline counts from
    due_date         date        NOT NULL,
    provisional      boolean     NOT NULL DEFAULT false,
    missing_years    integer[]   NOT NULL DEFAULT '{}',
    accepted_at      timestamptz,
    replied_at       timestamptz,
    active           boolean     NOT NULL DEFAULT true,
    FOREIGN KEY (county, lead_agency) REFERENCES agencies (county, code)
);
CREATE UNIQUE INDEX assignments_one_active ON assignments (suggestion_id) WHERE active;
CREATE INDEX assignments_due ON assignments (due_date) WHERE active AND replied_at IS NULL;
CREATE INDEX assignments_by_agency ON assignments (county, lead_agency) WHERE active;

CREATE TABLE progress_updates (
    id                uuid PRIMARY KEY,
    suggestion_id     uuid        NOT NULL REFERENCES suggestions (id),
    assignment_id     uuid        NOT NULL REFERENCES assignments (id),
    agency            text        NOT NULL,
    author_id         text        NOT NULL,
    text              text        NOT NULL,
    attachments       text[]      NOT NULL DEFAULT '{}',
    co_agency_opinion boolean     NOT NULL,
    at                timestamptz NOT NULL
);
CREATE INDEX progress_by_suggestion ON progress_updates (suggestion_id, at);

CREATE TABLE extension_requests (
    id            uuid PRIMARY KEY,
    suggestion_id uuid        NOT NULL REFERENCES suggestions (id),
    assignment_id uuid        NOT NULL REFERENCES assignments (id),
    requested_due date        NOT NULL,
    reason        text        NOT NULL,
    status        text        NOT NULL,   -- pending, approved, refused
    requested_by  text        NOT NULL,
    requested_at  timestamptz NOT NULL,
    decided_by    text,
    decided_at    timestamptz,
    note          text
);
CREATE UNIQUE INDEX extension_one_pending ON extension_requests (assignment_id) WHERE status = 'pending';

CREATE TABLE replies (
    id            uuid PRIMARY KEY,
    suggestion_id uuid        NOT NULL REFERENCES suggestions (id),
    assignment_id uuid        NOT NULL REFERENCES assignments (id),
    round         integer     NOT NULL,
    agency        text        NOT NULL,
    result        text        NOT NULL,   -- a, b, c
    content       text        NOT NULL,
    contact_note  text        NOT NULL,
    replied_at    timestamptz NOT NULL,
    on_time       boolean     NOT NULL
);
CREATE INDEX replies_by_suggestion ON replies (suggestion_id, replied_at);

CREATE TABLE evaluations (
    id            uuid PRIMARY KEY,
    suggestion_id uuid        NOT NULL REFERENCES suggestions (id),
    round         integer     NOT NULL,
    agency        text        NOT NULL,
    satisfaction  text        NOT NULL,
    comment       text        NOT NULL,
    at            timestamptz NOT NULL,
    UNIQUE (suggestion_id, round)
);

-- Sent reminders and escalations: the primary key makes each fire once, whichever replica
-- of the service gets there first.
CREATE TABLE reminders (
    assignment_id uuid        NOT NULL REFERENCES assignments (id),
    notice        text        NOT NULL,   -- before_7, overdue, urge, supervise
    sent_at       timestamptz NOT NULL,
    PRIMARY KEY (assignment_id, notice)
);

CREATE TABLE county_policies (
    county                    text PRIMARY KEY,
    mode                      text        NOT NULL,
    handling_period           integer     NOT NULL,
    rehandling_period         integer     NOT NULL,
    max_months_with_extension integer     NOT NULL,
    remind_days_before        integer[]   NOT NULL,
    urge_after_days           integer     NOT NULL,
    supervise_after_days      integer     NOT NULL,
    auto_assign               boolean     NOT NULL,
    motion_min_cosigners      integer     NOT NULL,
    updated_at                timestamptz NOT NULL,
    updated_by                text        NOT NULL
);

CREATE TABLE routing_rules (
    id       uuid PRIMARY KEY,
    county   text    NOT NULL,
    category text    NOT NULL DEFAULT '',
    keywords text[]  NOT NULL DEFAULT '{}',
    agency   text    NOT NULL,
    priority integer NOT NULL DEFAULT 100,
    FOREIGN KEY (county, agency) REFERENCES agencies (county, code)
);

-- The national holiday calendar, loaded per year as data.
CREATE TABLE holiday_years (
    year      integer PRIMARY KEY,
    loaded_at timestamptz NOT NULL,
    loaded_by text        NOT NULL
);
CREATE TABLE holidays (
    date date PRIMARY KEY,
    year integer NOT NULL REFERENCES holiday_years (year) ON DELETE CASCADE,
    kind text    NOT NULL,   -- off, work
    name text    NOT NULL
);

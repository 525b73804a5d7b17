-- The lead agency of each suggestion's latest 交办, learned from SuggestionAssigned, for the
-- events that do not name it (a co-agency's opinion goes to the lead; the 重点督办 flag).
-- `version` is the suggestion's version in that event: an older event never overwrites a newer one.
CREATE TABLE suggestion_leads (
    suggestion_id    text PRIMARY KEY,
    county           text    NOT NULL,
    lead_agency      text    NOT NULL,
    lead_agency_name text    NOT NULL,
    version          integer NOT NULL
);

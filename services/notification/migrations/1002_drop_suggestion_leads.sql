-- Suggestion events now carry the current lead agency in SuggestionRef; the local copy
-- learned from SuggestionAssigned is no longer needed.
DROP TABLE suggestion_leads;

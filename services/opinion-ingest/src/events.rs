//! Events the opinion-ingest service publishes on `renda.<county>.opinion-ingest` (none are raised yet: ingestion arrives with its issue).

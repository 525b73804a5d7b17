//! Events the supervision service publishes on `renda.<county>.supervision` (none are raised yet: projects arrive with the supervision issue).

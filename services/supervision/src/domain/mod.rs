//! Pure rules of supervision: who may see a county's projects.

use renda_platform::auth::Role;

/// Roles that read a county's livelihood projects: staff run them, deputies vote on them,
/// agencies report on them, evaluators assess them.
pub const PROJECT_READERS: &[Role] = &[Role::Staff, Role::Deputy, Role::Agency, Role::Evaluator];

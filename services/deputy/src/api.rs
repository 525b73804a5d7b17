//! The gRPC edge of the deputy service.

use renda_platform::auth::{AuthError, Role, Verifier};
use renda_platform::page::Page;
use renda_platform::wire::timestamp;
use renda_proto::deputy::v1 as pb;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::domain::ActivityKind;
use crate::error::{Error, Result};
use crate::store::{self, ActivityRow};

#[derive(Clone)]
pub struct DeputyApi {
    pool: PgPool,
    verifier: Verifier,
}

impl DeputyApi {
    pub fn new(pool: PgPool, verifier: Verifier) -> Self {
        Self { pool, verifier }
    }

    async fn list_activities(
        &self,
        request: Request<pb::ListDutyActivitiesRequest>,
    ) -> Result<pb::ListDutyActivitiesResponse> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        let page = Page::parse(request.get_ref().page.as_ref()).map_err(|v| Error::Invalid(vec![v]))?;
        let wanted = request.get_ref().deputy_id.trim();
        let caller = &scope.caller;
        // Staff see any deputy of their county (all when none is named); a deputy only their own.
        let deputy_id = if caller.has_role(Role::Staff) {
            (!wanted.is_empty()).then_some(wanted)
        } else {
            caller.require_any_role(&[Role::Staff, Role::Deputy])?;
            if !wanted.is_empty() && wanted != caller.id {
                return Err(AuthError::Forbidden("deputies see only their own duty record".into()).into());
            }
            Some(caller.id.as_str())
        };
        let rows = store::list(&self.pool, &scope.county, deputy_id, &page).await?;
        let (rows, next_page_token) = page.finish(rows, |r| r.id);
        Ok(pb::ListDutyActivitiesResponse { activities: rows.iter().map(to_wire).collect(), next_page_token })
    }
}

#[tonic::async_trait]
impl pb::deputy_service_server::DeputyService for DeputyApi {
    async fn list_duty_activities(
        &self,
        request: Request<pb::ListDutyActivitiesRequest>,
    ) -> Result<Response<pb::ListDutyActivitiesResponse>, Status> {
        Ok(Response::new(self.list_activities(request).await?))
    }
}

pub fn kind_to_wire(kind: Option<ActivityKind>) -> pb::ActivityKind {
    match kind {
        None => pb::ActivityKind::Unspecified,
        Some(ActivityKind::SuggestionSubmitted) => pb::ActivityKind::SuggestionSubmitted,
    }
}

fn to_wire(row: &ActivityRow) -> pb::DutyActivity {
    pb::DutyActivity {
        id: row.id.to_string(),
        county: row.county.clone(),
        deputy_id: row.deputy_id.clone(),
        deputy_name: row.deputy_name.clone(),
        kind: kind_to_wire(ActivityKind::parse(&row.kind)) as i32,
        summary: row.summary.clone(),
        reference_id: row.reference_id.clone(),
        occurred_at: Some(timestamp(row.occurred_at)),
    }
}

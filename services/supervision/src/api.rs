//! The gRPC edge of the supervision service.

use renda_platform::auth::Verifier;
use renda_platform::page::Page;
use renda_proto::supervision::v1 as pb;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::domain::PROJECT_READERS;
use crate::error::{Error, Result};
use crate::store;

#[derive(Clone)]
pub struct SupervisionApi {
    pool: PgPool,
    verifier: Verifier,
}

impl SupervisionApi {
    pub fn new(pool: PgPool, verifier: Verifier) -> Self {
        Self { pool, verifier }
    }

    async fn list_projects(&self, request: Request<pb::ListProjectsRequest>) -> Result<pb::ListProjectsResponse> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        scope.caller.require_any_role(PROJECT_READERS)?;
        let page = Page::parse(request.get_ref().page.as_ref()).map_err(|v| Error::Invalid(vec![v]))?;
        let rows = store::list(&self.pool, &scope.county, &page).await?;
        let (rows, next_page_token) = page.finish(rows, |r| r.id);
        let projects = rows
            .into_iter()
            .map(|r| pb::Project { id: r.id.to_string(), county: r.county, title: r.title, year: r.year })
            .collect();
        Ok(pb::ListProjectsResponse { projects, next_page_token })
    }
}

#[tonic::async_trait]
impl pb::supervision_service_server::SupervisionService for SupervisionApi {
    async fn list_projects(
        &self,
        request: Request<pb::ListProjectsRequest>,
    ) -> Result<Response<pb::ListProjectsResponse>, Status> {
        Ok(Response::new(SupervisionApi::list_projects(self, request).await?))
    }
}

//! The gRPC edge of the opinion-ingest service.

use renda_platform::auth::Verifier;
use renda_platform::page::Page;
use renda_platform::wire::timestamp;
use renda_proto::opinion::v1 as pb;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::domain::{OPINION_READERS, Source};
use crate::error::{Error, Result};
use crate::store;

#[derive(Clone)]
pub struct OpinionApi {
    pool: PgPool,
    verifier: Verifier,
}

impl OpinionApi {
    pub fn new(pool: PgPool, verifier: Verifier) -> Self {
        Self { pool, verifier }
    }

    async fn list_opinions(&self, request: Request<pb::ListOpinionsRequest>) -> Result<pb::ListOpinionsResponse> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        scope.caller.require_any_role(OPINION_READERS)?;
        let page = Page::parse(request.get_ref().page.as_ref()).map_err(|v| Error::Invalid(vec![v]))?;
        let rows = store::list(&self.pool, &scope.county, &page).await?;
        let (rows, next_page_token) = page.finish(rows, |r| r.id);
        let opinions = rows
            .into_iter()
            .map(|r| pb::Opinion {
                id: r.id.to_string(),
                county: r.county,
                source: source_to_wire(Source::parse(&r.source)) as i32,
                content: r.content,
                received_at: Some(timestamp(r.received_at)),
            })
            .collect();
        Ok(pb::ListOpinionsResponse { opinions, next_page_token })
    }
}

fn source_to_wire(source: Option<Source>) -> pb::OpinionSource {
    match source {
        None => pb::OpinionSource::Unspecified,
        Some(Source::Hotline12345) => pb::OpinionSource::Hotline12345,
        Some(Source::Petition) => pb::OpinionSource::Petition,
        Some(Source::Grid) => pb::OpinionSource::Grid,
        Some(Source::Online) => pb::OpinionSource::Online,
        Some(Source::Station) => pb::OpinionSource::Station,
        Some(Source::Diary) => pb::OpinionSource::Diary,
    }
}

#[tonic::async_trait]
impl pb::opinion_ingest_service_server::OpinionIngestService for OpinionApi {
    async fn list_opinions(
        &self,
        request: Request<pb::ListOpinionsRequest>,
    ) -> Result<Response<pb::ListOpinionsResponse>, Status> {
        Ok(Response::new(OpinionApi::list_opinions(self, request).await?))
    }
}

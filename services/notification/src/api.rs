//! The gRPC edge of the notification service.

use renda_platform::auth::Verifier;
use renda_platform::page::Page;
use renda_platform::wire::timestamp;
use renda_proto::notification::v1 as pb;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::error::{Error, Result};
use crate::store::{self, ItemRow};

#[derive(Clone)]
pub struct NotificationApi {
    pool: PgPool,
    verifier: Verifier,
}

impl NotificationApi {
    pub fn new(pool: PgPool, verifier: Verifier) -> Self {
        Self { pool, verifier }
    }

    async fn list_inbox(&self, request: Request<pb::ListInboxRequest>) -> Result<pb::ListInboxResponse> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        let page = Page::parse(request.get_ref().page.as_ref()).map_err(|v| Error::Invalid(vec![v]))?;
        let rows = store::list(&self.pool, &scope.county, &scope.caller.recipients(), &page).await?;
        let (rows, next_page_token) = page.finish(rows, |r| r.id);
        Ok(pb::ListInboxResponse { items: rows.iter().map(to_wire).collect(), next_page_token })
    }
}

#[tonic::async_trait]
impl pb::notification_service_server::NotificationService for NotificationApi {
    async fn list_inbox(
        &self,
        request: Request<pb::ListInboxRequest>,
    ) -> Result<Response<pb::ListInboxResponse>, Status> {
        Ok(Response::new(NotificationApi::list_inbox(self, request).await?))
    }
}

fn to_wire(row: &ItemRow) -> pb::InboxItem {
    pb::InboxItem {
        id: row.id.to_string(),
        county: row.county.clone(),
        recipient: row.recipient.clone(),
        title: row.title.clone(),
        body: row.body.clone(),
        source_type: row.source_type.clone(),
        subject_id: row.subject_id.clone(),
        created_at: Some(timestamp(row.created_at)),
    }
}

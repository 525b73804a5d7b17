//! The gRPC edge: authenticate, scope to the county, validate, convert, call the store.

use renda_platform::auth::{Role, Verifier};
use renda_platform::clock::SharedClock;
use renda_platform::outbox;
use renda_platform::page::Page;
use renda_platform::wire::{self, timestamp};
use renda_proto::suggestion::v1 as pb;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::domain::{Kind, NewSuggestion, State};
use crate::error::{Error, Result};
use crate::store::{self, Submitter, SuggestionRow};
use crate::{SERVICE, events};

#[derive(Clone)]
pub struct SuggestionApi {
    pool: PgPool,
    verifier: Verifier,
    clock: SharedClock,
}

impl SuggestionApi {
    pub fn new(pool: PgPool, verifier: Verifier, clock: SharedClock) -> Self {
        Self { pool, verifier, clock }
    }

    #[tracing::instrument(skip_all, fields(county = %request.get_ref().county))]
    async fn submit(&self, request: Request<pb::SubmitSuggestionRequest>) -> Result<pb::Suggestion> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        scope.caller.require_any_role(&[Role::Deputy])?;
        let req = request.get_ref();
        let new =
            NewSuggestion::parse(kind_from_wire(req.kind), &req.title, &req.content, &req.category, &req.request_id)
                .map_err(Error::Invalid)?;
        let submitter = Submitter { deputy_id: &scope.caller.id, deputy_name: &scope.caller.name };

        let mut tx = self.pool.begin().await?;
        if let Some(key) = &new.request_id
            && let Some(existing) = store::find_by_request_id(&mut tx, &scope.county, &scope.caller.id, key).await?
        {
            // A retried request returns what the first one created.
            return if existing.title == new.title && existing.content == new.content {
                Ok(to_wire(&existing))
            } else {
                Err(Error::IdempotencyKeyReused(key.clone()))
            };
        }
        let row = store::insert_submitted(&mut tx, &scope.county, &submitter, &new, self.clock.now()).await?;
        outbox::enqueue(
            &mut tx,
            SERVICE,
            &scope.county,
            &row.id.to_string(),
            &events::submitted(&row),
            row.submitted_at,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(suggestion = %row.id, number = %row.number, "suggestion submitted");
        Ok(to_wire(&row))
    }

    async fn get(&self, request: Request<pb::GetSuggestionRequest>) -> Result<pb::Suggestion> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        let id = wire::uuid("id", &request.get_ref().id).map_err(|v| Error::Invalid(vec![v]))?;
        let row = store::get(&self.pool, &scope.county, id).await?.ok_or_else(|| Error::NotFound(id.to_string()))?;
        let caller = &scope.caller;
        // Staff see the county's; deputies their own; agencies only what is assigned to them (nothing yet).
        let visible = caller.has_role(Role::Staff) || (caller.has_role(Role::Deputy) && row.deputy_id == caller.id);
        if !visible {
            return Err(Error::NotFound(id.to_string()));
        }
        Ok(to_wire(&row))
    }

    async fn list(&self, request: Request<pb::ListSuggestionsRequest>) -> Result<pb::ListSuggestionsResponse> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        let page = Page::parse(request.get_ref().page.as_ref()).map_err(|v| Error::Invalid(vec![v]))?;
        let caller = &scope.caller;
        let rows = if caller.has_role(Role::Staff) {
            store::list(&self.pool, &scope.county, None, &page).await?
        } else if caller.has_role(Role::Deputy) {
            store::list(&self.pool, &scope.county, Some(&caller.id), &page).await?
        } else {
            Vec::new()
        };
        let (rows, next_page_token) = page.finish(rows, |r| r.id);
        Ok(pb::ListSuggestionsResponse { suggestions: rows.iter().map(to_wire).collect(), next_page_token })
    }
}

#[tonic::async_trait]
impl pb::suggestion_service_server::SuggestionService for SuggestionApi {
    async fn submit_suggestion(
        &self,
        request: Request<pb::SubmitSuggestionRequest>,
    ) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(self.submit(request).await?))
    }

    async fn get_suggestion(
        &self,
        request: Request<pb::GetSuggestionRequest>,
    ) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(self.get(request).await?))
    }

    async fn list_suggestions(
        &self,
        request: Request<pb::ListSuggestionsRequest>,
    ) -> Result<Response<pb::ListSuggestionsResponse>, Status> {
        Ok(Response::new(self.list(request).await?))
    }
}

fn kind_from_wire(kind: i32) -> Option<Kind> {
    match pb::SuggestionKind::try_from(kind).ok()? {
        pb::SuggestionKind::Unspecified => None,
        pb::SuggestionKind::Motion => Some(Kind::Motion),
        pb::SuggestionKind::Suggestion => Some(Kind::Suggestion),
        pb::SuggestionKind::CitizenOpinion => Some(Kind::CitizenOpinion),
    }
}

pub fn kind_to_wire(kind: Option<Kind>) -> pb::SuggestionKind {
    match kind {
        None => pb::SuggestionKind::Unspecified,
        Some(Kind::Motion) => pb::SuggestionKind::Motion,
        Some(Kind::Suggestion) => pb::SuggestionKind::Suggestion,
        Some(Kind::CitizenOpinion) => pb::SuggestionKind::CitizenOpinion,
    }
}

fn state_to_wire(state: Option<State>) -> pb::SuggestionState {
    match state {
        None => pb::SuggestionState::Unspecified,
        Some(State::Submitted) => pb::SuggestionState::Submitted,
    }
}

fn to_wire(row: &SuggestionRow) -> pb::Suggestion {
    pb::Suggestion {
        id: row.id.to_string(),
        county: row.county.clone(),
        number: row.number.clone(),
        kind: kind_to_wire(row.kind()) as i32,
        state: state_to_wire(row.state()) as i32,
        title: row.title.clone(),
        content: row.content.clone(),
        category: row.category.clone(),
        deputy_id: row.deputy_id.clone(),
        deputy_name: row.deputy_name.clone(),
        submitted_at: Some(timestamp(row.submitted_at)),
    }
}

//! The gRPC edge: authenticate, scope to the county, validate, convert, check who may act
//! and what the state machine allows, then change state, audit and announce in one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use renda_platform::audit::{self, AuditRecord};
use renda_platform::auth::{AuthError, Caller, Role, Scoped, Verifier};
use renda_platform::calendar::YearCalendar;
use renda_platform::clock::SharedClock;
use renda_platform::counties::CountyCode;
use renda_platform::deadline::{self, local_date};
use renda_platform::error::{FieldViolation, Violations, required_text};
use renda_platform::outbox;
use renda_platform::page::Page;
use renda_platform::wire::{self, timestamp};
use renda_proto::EventType;
use renda_proto::suggestion::v1 as pb;
use serde_json::json;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::lifecycle::{Round, Satisfaction, allowed_for, next_state};
use crate::domain::policy::{DeadlineMode, Policy, PolicyInput};
use crate::domain::submission::Draft;
use crate::domain::{Action, Kind, NewSuggestion, Relation, State, routing};
use crate::error::{Error, Result};
use crate::store::{self, AssignmentRow, Author, Change, History, SuggestionRow};
use crate::{SERVICE, events};

const TEXT_MAX: usize = 5_000;
const REASON_MAX: usize = 1_000;
const ATTACHMENTS_MAX: usize = 20;
const ATTACHMENT_REF_MAX: usize = 500;

#[derive(Clone)]
pub struct SuggestionApi {
    pool: PgPool,
    verifier: Verifier,
    clock: SharedClock,
}

/// A suggestion locked for a change by an authenticated caller.
struct Locked {
    scope: Scoped,
    tx: Transaction<'static, Postgres>,
    row: SuggestionRow,
    assignment: Option<AssignmentRow>,
    relations: Vec<Relation>,
    now: DateTime<Utc>,
}

impl Locked {
    fn today(&self) -> NaiveDate {
        local_date(self.now)
    }

    fn assignment(&self) -> Result<&AssignmentRow> {
        self.assignment.as_ref().ok_or_else(|| Error::Precondition("the suggestion has no assignment".into()))
    }

    fn reference(&self, version: i32) -> pb::SuggestionRef {
        events::reference(&self.row, self.assignment.as_ref(), version)
    }

    /// Appends the suggestion's audit entry in this transaction.
    async fn audit(
        &mut self,
        action: &str,
        actor_id: &str,
        from: &str,
        to: State,
        detail: serde_json::Value,
    ) -> Result<()> {
        let id = self.row.id.to_string();
        let record = AuditRecord {
            county: &self.scope.county,
            entity: "suggestion",
            entity_id: &id,
            action,
            actor_id,
            from_state: from,
            to_state: to.as_str(),
            detail,
            at: self.now,
        };
        audit::append(&mut self.tx, &record).await?;
        Ok(())
    }
}

/// Whether parties standing in `relations` may see a suggestion in `state`: anyone related
/// may, except that a draft is the author's alone.
fn may_see(relations: &[Relation], state: State) -> bool {
    !relations.is_empty() && (state != State::Draft || relations.contains(&Relation::Author))
}

/// How `caller` stands to a suggestion (empty: they may not see it).
fn relations(caller: &Caller, row: &SuggestionRow, assignment: Option<&AssignmentRow>) -> Vec<Relation> {
    let mut out = Vec::new();
    let writes = caller.has_role(Role::Deputy) || caller.has_role(Role::Liaison);
    if writes && row.deputy_id == caller.id {
        out.push(Relation::Author);
    }
    if caller.has_role(Role::Deputy) && row.co_signers.contains(&caller.id) {
        out.push(Relation::CoSigner);
    }
    if caller.has_role(Role::Staff) {
        out.push(Relation::Staff);
    }
    let agency_user = caller.has_role(Role::Agency) || caller.has_role(Role::AgencyHead);
    if let (true, Some(agency), Some(a)) = (agency_user, caller.agency.as_deref(), assignment) {
        if a.lead_agency == agency {
            out.push(Relation::LeadAgency);
        } else if a.co_agencies.iter().any(|c| c == agency) {
            out.push(Relation::CoAgency);
        }
    }
    out
}

fn id_of(field: &str, raw: &str) -> Result<Uuid> {
    Ok(wire::uuid(field, raw)?)
}

fn parse_date(field: &str, raw: &str) -> std::result::Result<NaiveDate, FieldViolation> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldViolation::new(field, format!("{raw:?} is not a date (YYYY-MM-DD)")))
}

fn date_of(field: &str, raw: &str) -> Result<NaiveDate> {
    Ok(parse_date(field, raw)?)
}

fn optional_text(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(Error::invalid(field, format!("at most {max} characters")));
    }
    Ok(value.to_owned())
}

/// Checks attachment references, recording what is wrong in `v`.
fn attachments(list: &[String], v: &mut Violations) -> Vec<String> {
    if list.len() > ATTACHMENTS_MAX {
        v.add("attachments", format!("at most {ATTACHMENTS_MAX}"));
    }
    list.iter()
        .enumerate()
        .filter_map(|(i, a)| v.check(required_text(&format!("attachments[{i}]"), a, ATTACHMENT_REF_MAX)))
        .collect()
}

/// Adds an event to the outbox, keyed by the suggestion.
async fn emit<E: EventType>(
    conn: &mut PgConnection,
    county: &CountyCode,
    id: Uuid,
    event: &E,
    at: DateTime<Utc>,
) -> Result<()> {
    outbox::enqueue(conn, SERVICE, county, &id.to_string(), event, at).await?;
    Ok(())
}

impl SuggestionApi {
    pub fn new(pool: PgPool, verifier: Verifier, clock: SharedClock) -> Self {
        Self { pool, verifier, clock }
    }

    /// Authenticates, scopes, locks the suggestion and checks the caller's expected version.
    async fn lock(&self, metadata: &MetadataMap, county: &str, id: &str, expected_version: i32) -> Result<Locked> {
        let scope = self.verifier.scoped(metadata, county)?;
        let id = id_of("id", id)?;
        let mut tx = self.pool.begin().await?;
        let row = store::lock(&mut tx, &scope.county, id).await?.ok_or_else(|| Error::NotFound(id.to_string()))?;
        let assignment = store::current_assignment(&mut tx, id).await?;
        let relations = relations(&scope.caller, &row, assignment.as_ref());
        if !may_see(&relations, row.state()) {
            return Err(Error::NotFound(id.to_string()));
        }
        if expected_version != 0 && expected_version != row.version {
            return Err(Error::Stale { expected: expected_version, actual: row.version });
        }
        Ok(Locked { scope, tx, row, assignment, relations, now: self.clock.now() })
    }

    /// Checks that the caller may take `action` and that the state allows it.
    fn check(locked: &Locked, action: Action, evaluation: Option<(Satisfaction, Round)>) -> Result<State> {
        let actor = action.actor();
        if !locked.relations.contains(&actor) {
            return Err(AuthError::Forbidden(format!("only {} may {action} this suggestion", actor.describe())).into());
        }
        Ok(next_state(locked.row.state(), action, evaluation)?)
    }

    /// Writes the new state and its audit entry; returns the new version.
    async fn record(
        locked: &mut Locked,
        action: Action,
        to: State,
        change: &Change<'_>,
        detail: serde_json::Value,
    ) -> Result<i32> {
        let from = locked.row.state();
        store::set_state(&mut locked.tx, locked.row.id, to, change, locked.now).await?;
        let actor = locked.scope.caller.id.clone();
        locked.audit(action.as_str(), &actor, from.as_str(), to, detail).await?;
        Ok(locked.row.version + 1)
    }

    /// Commits and answers with the suggestion as the caller now sees it.
    async fn finish(&self, locked: Locked) -> Result<pb::Suggestion> {
        let Locked { scope, tx, row, .. } = locked;
        tx.commit().await?;
        self.view(&scope, row.id).await
    }

    async fn view(&self, scope: &Scoped, id: Uuid) -> Result<pb::Suggestion> {
        // One connection for the whole read: a request never holds one while waiting for another.
        let mut conn = self.pool.acquire().await?;
        let row = store::get(&mut conn, &scope.county, id).await?.ok_or_else(|| Error::NotFound(id.to_string()))?;
        let assignment = store::current_assignment(&mut conn, id).await?;
        let relations = relations(&scope.caller, &row, assignment.as_ref());
        if !may_see(&relations, row.state()) {
            return Err(Error::NotFound(id.to_string()));
        }
        let history = store::history(&mut conn, id).await?;
        Ok(to_wire(&row, assignment.as_ref(), Some(&history), &relations, local_date(self.clock.now())))
    }

    /// The deadline of a new assignment made today for `round`.
    async fn deadline_for(
        conn: &mut PgConnection,
        policy: &Policy,
        round: i32,
        assigned_on: NaiveDate,
    ) -> Result<deadline::Deadline> {
        let calendar = store::calendar(conn).await?;
        let due = deadline::due_date(assigned_on, policy.period_for_round(round), &calendar);
        if due.provisional {
            tracing::warn!(missing_years = ?due.missing_years, due = %due.due, "deadline counted on plain weekdays: holiday calendar missing");
        }
        Ok(due)
    }

    // ---- create and submit

    #[tracing::instrument(skip_all, fields(county = %request.get_ref().county))]
    async fn create(&self, request: Request<pb::CreateSuggestionRequest>) -> Result<pb::Suggestion> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        let req = request.get_ref();
        let kind = kind_from_wire(req.kind);
        let writers: &[Role] =
            if kind == Some(Kind::CitizenOpinion) { &[Role::Deputy, Role::Liaison] } else { &[Role::Deputy] };
        scope.caller.require_any_role(writers)?;
        let mut tx = self.pool.begin().await?;
        let policy = store::policy(&mut tx, &scope.county).await?;
        let draft = Draft {
            kind,
            title: &req.title,
            content: &req.content,
            category: &req.category,
            request_id: &req.request_id,
            co_signers: &req.co_signers,
            origin: req.origin.as_ref().map(|o| (o.source.as_str(), o.reference.as_str(), o.note.as_str())),
        };
        let new =
            NewSuggestion::parse(&draft, &scope.caller.id, policy.motion_min_cosigners).map_err(Error::Invalid)?;
        if let Some(key) = &new.request_id
            && let Some(existing) = store::find_by_request_id(&mut tx, &scope.county, &scope.caller.id, key).await?
        {
            // A retried request returns what the first one created.
            drop(tx);
            return if existing.title == new.title && existing.content == new.content {
                self.view(&scope, existing.id).await
            } else {
                Err(Error::IdempotencyKeyReused(key.clone()))
            };
        }
        let now = self.clock.now();
        let author = Author { id: &scope.caller.id, name: &scope.caller.name };
        let proposed = if req.draft { None } else { self.propose(&mut tx, &scope.county, &new).await? };
        let row = store::insert(&mut tx, &scope.county, &author, &new, req.draft, proposed.as_deref(), now).await?;
        let id = row.id;
        let mut locked =
            Locked { relations: relations(&scope.caller, &row, None), scope, tx, row, assignment: None, now };
        if req.draft {
            audit_creation(&mut locked, "create_draft", State::Draft).await?;
        } else {
            audit_creation(&mut locked, "submit", State::Submitted).await?;
            self.after_submit(&mut locked, &policy).await?;
        }
        tracing::info!(suggestion = %id, number = locked.row.number(), draft = req.draft, "suggestion created");
        self.finish(locked).await
    }

    /// The routing rules' proposal for a new suggestion, if an active agency matches.
    async fn propose(
        &self,
        conn: &mut PgConnection,
        county: &CountyCode,
        new: &NewSuggestion,
    ) -> Result<Option<String>> {
        let rules: Vec<routing::Rule> =
            store::rules(&mut *conn, county).await?.iter().map(store::RuleRow::rule).collect();
        let Some(code) = routing::propose(&rules, &new.category, &new.title, &new.content) else { return Ok(None) };
        Ok(store::agency(conn, county, code).await?.filter(|a| a.active).map(|a| a.code))
    }

    /// Announces a submission and, where the county auto-assigns, registers and assigns it.
    async fn after_submit(&self, locked: &mut Locked, policy: &Policy) -> Result<()> {
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &events::submitted(&locked.row), locked.now).await?;
        let Some(agency) = locked.row.proposed_agency.clone().filter(|_| policy.auto_assign) else { return Ok(()) };
        // The 德清 case: registered and assigned at once, on the county's routing rules.
        let actor = events::system_actor();
        store::set_state(&mut locked.tx, locked.row.id, State::Registered, &Change::default(), locked.now).await?;
        audit_system(locked, Action::Register, State::Submitted, State::Registered, json!({"automatic": true})).await?;
        locked.row.version += 1;
        let registered = pb::SuggestionRegistered {
            suggestion: Some(locked.reference(locked.row.version)),
            actor: Some(actor.clone()),
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &registered, locked.now).await?;
        let assigned_on = locked.today();
        let due = Self::deadline_for(&mut locked.tx, policy, 1, assigned_on).await?;
        let assignment = store::assign(
            &mut locked.tx,
            &store::NewAssignment {
                suggestion_id: locked.row.id,
                county: &locked.scope.county,
                round: 1,
                lead_agency: &agency,
                co_agencies: &[],
                assigned_at: locked.now,
                assigned_on,
                due_date: due.due,
                provisional: due.provisional,
                missing_years: &due.missing_years,
                accepted: false,
            },
        )
        .await?;
        locked.assignment = Some(assignment.clone());
        store::set_state(&mut locked.tx, locked.row.id, State::Assigned, &Change::default(), locked.now).await?;
        let detail = json!({"automatic": true, "lead_agency": agency, "due_date": due.due.to_string()});
        audit_system(locked, Action::Assign, State::Registered, State::Assigned, detail).await?;
        locked.row.version += 1;
        let event = events::assigned(locked.reference(locked.row.version), actor, &assignment, true, locked.now);
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await
    }

    async fn update_draft(&self, request: Request<pb::UpdateDraftRequest>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::EditDraft, None)?;
        let kind = kind_from_wire(req.kind);
        if kind == Some(Kind::CitizenOpinion) || locked.row.kind() == Some(Kind::CitizenOpinion) {
            locked.scope.caller.require_any_role(&[Role::Deputy, Role::Liaison])?;
        } else {
            locked.scope.caller.require_any_role(&[Role::Deputy])?;
        }
        let policy = store::policy(&mut locked.tx, &locked.scope.county).await?;
        let draft = Draft {
            kind,
            title: &req.title,
            content: &req.content,
            category: &req.category,
            request_id: "",
            co_signers: &req.co_signers,
            origin: req.origin.as_ref().map(|o| (o.source.as_str(), o.reference.as_str(), o.note.as_str())),
        };
        let new = NewSuggestion::parse(&draft, &locked.scope.caller.id, policy.motion_min_cosigners)
            .map_err(Error::Invalid)?;
        store::update_draft(&mut locked.tx, locked.row.id, &new).await?;
        Self::record(&mut locked, Action::EditDraft, next, &Change::default(), json!({"kind": new.kind.as_str()}))
            .await?;
        self.finish(locked).await
    }

    async fn submit_draft(&self, request: Request<pb::SuggestionAction>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::Submit, None)?;
        let policy = store::policy(&mut locked.tx, &locked.scope.county).await?;
        if locked.row.kind() == Some(Kind::Motion) && locked.row.co_signers.len() < policy.motion_min_cosigners as usize
        {
            return Err(Error::invalid(
                "co_signers",
                format!("a motion (议案) needs at least {} co-signing deputies", policy.motion_min_cosigners),
            ));
        }
        store::number(&mut locked.tx, &locked.scope.county, locked.row.id, locked.now).await?;
        let new = NewSuggestion {
            kind: locked.row.kind().unwrap_or(Kind::Suggestion),
            title: locked.row.title.clone(),
            content: locked.row.content.clone(),
            category: locked.row.category.clone(),
            request_id: None,
            co_signers: Vec::new(),
            origin: None,
        };
        let proposed = self.propose(&mut locked.tx, &locked.scope.county, &new).await?;
        let change = Change { proposed_agency: proposed.as_deref(), ..Change::default() };
        Self::record(&mut locked, Action::Submit, next, &change, json!({})).await?;
        // Re-read: the row now has its number, state and proposal.
        locked.row = store::lock(&mut locked.tx, &locked.scope.county, locked.row.id)
            .await?
            .ok_or_else(|| Error::NotFound(req.id.clone()))?;
        self.after_submit(&mut locked, &policy).await?;
        self.finish(locked).await
    }

    // ---- staff: registration, assignment, merge, key, close

    async fn register(&self, request: Request<pb::SuggestionAction>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::Register, None)?;
        let version = Self::record(&mut locked, Action::Register, next, &Change::default(), json!({})).await?;
        let event = pb::SuggestionRegistered {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, Relation::Staff)),
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    async fn refuse_registration(&self, request: Request<pb::ReasonRequest>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let reason = required_text("reason", &req.reason, REASON_MAX)?;
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::RefuseRegistration, None)?;
        let change = Change { reason: Some(&reason), ..Change::default() };
        let version =
            Self::record(&mut locked, Action::RefuseRegistration, next, &change, json!({"reason": reason})).await?;
        let event = pb::SuggestionRegistrationRefused {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, Relation::Staff)),
            reason,
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    async fn assign(&self, request: Request<pb::AssignRequest>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let lead = required_text("lead_agency", &req.lead_agency, 64)?;
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::Assign, None)?;
        let county = locked.scope.county.clone();
        let mut v = Violations::new();
        match store::agency(&mut locked.tx, &county, &lead).await? {
            Some(a) if a.active => {}
            Some(_) => v.add("lead_agency", format!("{lead} is no longer active")),
            None => v.add("lead_agency", format!("{lead} is not an agency of county {county}")),
        }
        let mut co_agencies: Vec<String> = Vec::new();
        for (i, code) in req.co_agencies.iter().map(|c| c.trim()).enumerate() {
            let field = format!("co_agencies[{i}]");
            if code == lead || co_agencies.iter().any(|c| c == code) {
                v.add(field, format!("{code} is listed twice"));
            } else if store::agency(&mut locked.tx, &county, code).await?.is_none_or(|a| !a.active) {
                v.add(field, format!("{code} is not an active agency of county {county}"));
            } else {
                co_agencies.push(code.to_owned());
            }
        }
        let policy = store::policy(&mut locked.tx, &county).await?;
        let round = locked.assignment.as_ref().map_or(1, |a| a.round);
        let assigned_on = locked.today();
        let due = if req.due_date.trim().is_empty() {
            Some(Self::deadline_for(&mut locked.tx, &policy, round, assigned_on).await?)
        } else {
            let latest = deadline::latest_allowed(assigned_on, policy.max_months_with_extension);
            match v.check(parse_date("due_date", &req.due_date)) {
                Some(date) if date < assigned_on => {
                    v.add("due_date", "must not be in the past");
                    None
                }
                Some(date) if date > latest => {
                    v.add(
                        "due_date",
                        format!("must be on or before {latest} ({} months at most)", policy.max_months_with_extension),
                    );
                    None
                }
                Some(date) => Some(deadline::Deadline { due: date, provisional: false, missing_years: Vec::new() }),
                None => None,
            }
        };
        v.finish().map_err(Error::Invalid)?;
        let due = due.ok_or_else(|| Error::invalid("due_date", "is invalid"))?;
        let assignment = store::assign(
            &mut locked.tx,
            &store::NewAssignment {
                suggestion_id: locked.row.id,
                county: &county,
                round,
                lead_agency: &lead,
                co_agencies: &co_agencies,
                assigned_at: locked.now,
                assigned_on,
                due_date: due.due,
                provisional: due.provisional,
                missing_years: &due.missing_years,
                accepted: false,
            },
        )
        .await?;
        let detail =
            json!({"lead_agency": lead, "co_agencies": co_agencies, "due_date": due.due.to_string(), "round": round});
        let version = Self::record(&mut locked, Action::Assign, next, &Change::default(), detail).await?;
        let actor = events::actor(&locked.scope.caller, Relation::Staff);
        let event = events::assigned(locked.reference(version), actor, &assignment, false, locked.now);
        emit(&mut locked.tx, &county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    async fn merge(&self, request: Request<pb::MergeRequest>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let into = id_of("into_id", &req.into_id)?;
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::Merge, None)?;
        if into == locked.row.id {
            return Err(Error::invalid("into_id", "a suggestion cannot be merged into itself"));
        }
        let target = store::lock(&mut locked.tx, &locked.scope.county, into)
            .await?
            .ok_or_else(|| Error::invalid("into_id", format!("{into} is not a suggestion of this county")))?;
        if target.state().is_final() || target.state() == State::Draft {
            return Err(Error::Precondition(format!(
                "cannot merge into {} ({}): it is {}",
                target.number(),
                target.id,
                target.state()
            )));
        }
        let change = Change { merged_into: Some(into), ..Change::default() };
        let detail = json!({"into_id": into.to_string(), "into_number": target.number()});
        let version = Self::record(&mut locked, Action::Merge, next, &change, detail).await?;
        let event = pb::SuggestionMerged {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, Relation::Staff)),
            into_id: into.to_string(),
            into_number: target.number().to_owned(),
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    async fn mark_key(&self, request: Request<pb::MarkKeyRequest>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::MarkKey, None)?;
        let change = Change { key: Some(req.key), ..Change::default() };
        let version = Self::record(&mut locked, Action::MarkKey, next, &change, json!({"key": req.key})).await?;
        locked.row.is_key = req.key;
        let event = pb::SuggestionMarkedKey {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, Relation::Staff)),
            key: req.key,
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    async fn close(&self, request: Request<pb::ReasonRequest>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let reason = required_text("reason", &req.reason, REASON_MAX)?;
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::Close, None)?;
        let change = Change { reason: Some(&reason), ..Change::default() };
        let version = Self::record(&mut locked, Action::Close, next, &change, json!({"reason": reason})).await?;
        let event = pb::SuggestionClosed {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, Relation::Staff)),
            reason,
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    // ---- agencies: accept, return, progress, extensions, reply

    async fn accept(&self, request: Request<pb::SuggestionAction>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::Accept, None)?;
        let assignment = locked.assignment()?.clone();
        store::mark_accepted(&mut locked.tx, assignment.id, locked.now).await?;
        let version = Self::record(&mut locked, Action::Accept, next, &Change::default(), json!({})).await?;
        let event = pb::SuggestionAccepted {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, Relation::LeadAgency)),
            agency: assignment.lead_agency,
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    async fn return_assignment(&self, request: Request<pb::ReasonRequest>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let reason = required_text("reason", &req.reason, REASON_MAX)?;
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::Return, None)?;
        let agency = locked.assignment()?.lead_agency.clone();
        let change = Change { reason: Some(&reason), ..Change::default() };
        let detail = json!({"agency": agency, "reason": reason});
        let version = Self::record(&mut locked, Action::Return, next, &change, detail).await?;
        let event = pb::SuggestionReturned {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, Relation::LeadAgency)),
            agency,
            reason,
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    async fn report_progress(
        &self,
        request: Request<pb::ReportProgressRequest>,
        co_agency: bool,
    ) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let mut v = Violations::new();
        let text = v.check(required_text("text", &req.text, TEXT_MAX));
        let files = attachments(&req.attachments, &mut v);
        v.finish().map_err(Error::Invalid)?;
        let text = text.unwrap_or_default();
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let action = if co_agency { Action::CoAgencyOpinion } else { Action::ReportProgress };
        let next = Self::check(&locked, action, None)?;
        let assignment = locked.assignment()?.clone();
        let agency = locked.scope.caller.agency.clone().unwrap_or_default();
        store::add_progress(
            &mut locked.tx,
            &store::NewProgress {
                suggestion_id: locked.row.id,
                assignment_id: assignment.id,
                agency: &agency,
                author_id: &locked.scope.caller.id,
                text: &text,
                attachments: &files,
                co_agency_opinion: co_agency,
                at: locked.now,
            },
        )
        .await?;
        let detail = json!({"agency": agency, "attachments": files.len()});
        let version = Self::record(&mut locked, action, next, &Change::default(), detail).await?;
        let relation = if co_agency { Relation::CoAgency } else { Relation::LeadAgency };
        let event = pb::ProgressReported {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, relation)),
            agency,
            text,
            attachments: files,
            co_agency_opinion: co_agency,
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    async fn request_extension(&self, request: Request<pb::RequestExtensionRequest>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let reason = required_text("reason", &req.reason, REASON_MAX)?;
        let wanted = date_of("due_date", &req.due_date)?;
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::RequestExtension, None)?;
        let assignment = locked.assignment()?.clone();
        let policy = store::policy(&mut locked.tx, &locked.scope.county).await?;
        let latest = deadline::latest_allowed(assignment.assigned_on, policy.max_months_with_extension);
        if wanted <= assignment.due_date {
            return Err(Error::invalid(
                "due_date",
                format!("must be after the current deadline {}", assignment.due_date),
            ));
        }
        if wanted > latest {
            return Err(Error::invalid(
                "due_date",
                format!(
                    "must be on or before {latest}: at most {} months from assignment",
                    policy.max_months_with_extension
                ),
            ));
        }
        if store::pending_extension(&mut locked.tx, assignment.id).await?.is_some() {
            return Err(Error::Precondition("an extension request is already pending".into()));
        }
        store::request_extension(
            &mut locked.tx,
            locked.row.id,
            assignment.id,
            wanted,
            &reason,
            &locked.scope.caller.id,
            locked.now,
        )
        .await?;
        let detail = json!({"requested_due_date": wanted.to_string(), "reason": reason});
        let version = Self::record(&mut locked, Action::RequestExtension, next, &Change::default(), detail).await?;
        let event = pb::ExtensionRequested {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, Relation::LeadAgency)),
            agency: assignment.lead_agency.clone(),
            current_due_date: assignment.due_date.to_string(),
            requested_due_date: wanted.to_string(),
            reason,
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    async fn decide_extension(&self, request: Request<pb::DecideExtensionRequest>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let note = optional_text("note", &req.note, REASON_MAX)?;
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::DecideExtension, None)?;
        let assignment = locked.assignment()?.clone();
        let pending = store::pending_extension(&mut locked.tx, assignment.id)
            .await?
            .ok_or_else(|| Error::Precondition("no extension request is pending".into()))?;
        store::decide_extension(&mut locked.tx, pending.id, req.approve, &locked.scope.caller.id, &note, locked.now)
            .await?;
        let due = if req.approve {
            store::set_due_date(&mut locked.tx, assignment.id, pending.requested_due, false, &[]).await?;
            // The schedule restarts for the new deadline: reminders of the old one no longer apply.
            store::reset_notices(&mut locked.tx, assignment.id).await?;
            events::deadline(pending.requested_due, false, &[])
        } else {
            events::assignment_deadline(&assignment)
        };
        let detail = json!({"approved": req.approve, "due_date": due.due_date, "note": note});
        let version = Self::record(&mut locked, Action::DecideExtension, next, &Change::default(), detail).await?;
        let event = pb::ExtensionDecided {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, Relation::Staff)),
            agency: assignment.lead_agency,
            approved: req.approve,
            deadline: Some(due),
            note,
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    async fn reply(&self, request: Request<pb::ReplyRequest>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let mut v = Violations::new();
        let result = match pb::ResultClass::try_from(req.result) {
            Ok(pb::ResultClass::A) => Some("a"),
            Ok(pb::ResultClass::B) => Some("b"),
            Ok(pb::ResultClass::C) => Some("c"),
            _ => {
                v.add("result", "must be A (已解决/采纳), B (正在解决/列入计划) or C (暂无法解决/留作参考)");
                None
            }
        };
        let content = v.check(required_text("content", &req.content, 10_000));
        if !req.contacted_deputy {
            v.add("contacted_deputy", "the agency must contact the deputy before replying (沟通)");
        }
        if req.contact_note.chars().count() > REASON_MAX {
            v.add("contact_note", format!("at most {REASON_MAX} characters"));
        }
        v.finish().map_err(Error::Invalid)?;
        let (Some(result), Some(content)) = (result, content) else {
            return Err(Error::invalid("content", "must not be empty"));
        };
        let contact_note = req.contact_note.trim().to_owned();
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let next = Self::check(&locked, Action::Reply, None)?;
        let assignment = locked.assignment()?.clone();
        let on_time = locked.today() <= assignment.due_date;
        store::add_reply(
            &mut locked.tx,
            &store::NewReply {
                suggestion_id: locked.row.id,
                assignment_id: assignment.id,
                round: assignment.round,
                agency: &assignment.lead_agency,
                result,
                content: &content,
                contact_note: &contact_note,
                at: locked.now,
                on_time,
            },
        )
        .await?;
        let detail = json!({"result": result, "on_time": on_time, "round": assignment.round});
        let version = Self::record(&mut locked, Action::Reply, next, &Change::default(), detail).await?;
        let event = pb::SuggestionReplied {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, Relation::LeadAgency)),
            agency: assignment.lead_agency,
            result: req.result,
            content,
            on_time,
            round: assignment.round,
            at: Some(timestamp(locked.now)),
        };
        emit(&mut locked.tx, &locked.scope.county, locked.row.id, &event, locked.now).await?;
        self.finish(locked).await
    }

    // ---- the deputy's evaluation

    async fn evaluate(&self, request: Request<pb::EvaluateRequest>) -> Result<pb::Suggestion> {
        let req = request.get_ref();
        let satisfaction = match pb::Satisfaction::try_from(req.satisfaction) {
            Ok(pb::Satisfaction::Satisfied) => Satisfaction::Satisfied,
            Ok(pb::Satisfaction::BasicallySatisfied) => Satisfaction::BasicallySatisfied,
            Ok(pb::Satisfaction::Unsatisfied) => Satisfaction::Unsatisfied,
            _ => return Err(Error::invalid("satisfaction", "must be satisfied, basically_satisfied or unsatisfied")),
        };
        let comment = optional_text("comment", &req.comment, REASON_MAX)?;
        let mut locked = self.lock(request.metadata(), &req.county, &req.id, req.expected_version).await?;
        let assignment = locked.assignment()?.clone();
        let next = Self::check(&locked, Action::Evaluate, Some((satisfaction, Round(assignment.round))))?;
        let (county, id, now) = (locked.scope.county.clone(), locked.row.id, locked.now);
        store::add_evaluation(
            &mut locked.tx,
            id,
            assignment.round,
            &assignment.lead_agency,
            satisfaction.as_str(),
            &comment,
            now,
        )
        .await?;
        let detail = json!({"satisfaction": satisfaction.as_str(), "round": assignment.round});
        let version = Self::record(&mut locked, Action::Evaluate, next, &Change::default(), detail).await?;
        let evaluated = pb::SuggestionEvaluated {
            suggestion: Some(locked.reference(version)),
            actor: Some(events::actor(&locked.scope.caller, Relation::Author)),
            satisfaction: req.satisfaction,
            comment,
            round: assignment.round,
            agency: assignment.lead_agency.clone(),
            at: Some(timestamp(now)),
        };
        emit(&mut locked.tx, &county, id, &evaluated, now).await?;
        match next {
            State::InProgress => {
                // 不满意 in the first round: the same agencies handle it again, on a shorter deadline.
                let policy = store::policy(&mut locked.tx, &county).await?;
                let round = assignment.round + 1;
                let assigned_on = locked.today();
                let due = Self::deadline_for(&mut locked.tx, &policy, round, assigned_on).await?;
                let reopened = store::assign(
                    &mut locked.tx,
                    &store::NewAssignment {
                        suggestion_id: id,
                        county: &county,
                        round,
                        lead_agency: &assignment.lead_agency,
                        co_agencies: &assignment.co_agencies,
                        assigned_at: now,
                        assigned_on,
                        due_date: due.due,
                        provisional: due.provisional,
                        missing_years: &due.missing_years,
                        accepted: true,
                    },
                )
                .await?;
                locked.assignment = Some(reopened.clone());
                let event = pb::SuggestionReopened {
                    suggestion: Some(locked.reference(version)),
                    agency: reopened.lead_agency.clone(),
                    deadline: Some(events::assignment_deadline(&reopened)),
                    round,
                    at: Some(timestamp(now)),
                };
                emit(&mut locked.tx, &county, id, &event, now).await?;
            }
            State::UnderSupervision => {
                let event = pb::SuggestionEscalated {
                    suggestion: Some(locked.reference(version)),
                    agency: assignment.lead_agency.clone(),
                    stage: pb::EscalationStage::Supervise as i32,
                    due_date: assignment.due_date.to_string(),
                    days_overdue: 0,
                    reason: "the deputy is unsatisfied again after re-handling (再次不满意)".into(),
                    round: assignment.round,
                    at: Some(timestamp(now)),
                };
                emit(&mut locked.tx, &county, id, &event, now).await?;
            }
            _ => {
                let event = pb::SuggestionClosed {
                    suggestion: Some(locked.reference(version)),
                    actor: Some(events::actor(&locked.scope.caller, Relation::Author)),
                    reason: format!("evaluated {}", satisfaction.as_str()),
                    at: Some(timestamp(now)),
                };
                emit(&mut locked.tx, &county, id, &event, now).await?;
            }
        }
        self.finish(locked).await
    }

    // ---- reading

    async fn get(&self, request: Request<pb::GetSuggestionRequest>) -> Result<pb::Suggestion> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        let id = id_of("id", &request.get_ref().id)?;
        self.view(&scope, id).await
    }

    async fn list(&self, request: Request<pb::ListSuggestionsRequest>) -> Result<pb::ListSuggestionsResponse> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        let req = request.get_ref();
        let page = Page::parse(req.page.as_ref())?;
        let caller = &scope.caller;
        let visibility = if caller.has_role(Role::Staff) {
            store::Visibility::County
        } else if let (true, Some(agency)) =
            (caller.has_role(Role::Agency) || caller.has_role(Role::AgencyHead), caller.agency.as_deref())
        {
            store::Visibility::Agency(agency)
        } else if caller.has_role(Role::Deputy) || caller.has_role(Role::Liaison) {
            store::Visibility::Deputy(&caller.id)
        } else {
            store::Visibility::Nothing
        };
        let filters = filters(req)?;
        let today = local_date(self.clock.now());
        let rows = store::list(&self.pool, &scope.county, &visibility, &filters, today, &page).await?;
        let (rows, next_page_token) = page.finish(rows, |r| r.suggestion.id);
        let suggestions = rows
            .iter()
            .map(|r| {
                let relations = relations(caller, &r.suggestion, r.assignment.as_ref());
                to_wire(&r.suggestion, r.assignment.as_ref(), None, &relations, today)
            })
            .collect();
        Ok(pb::ListSuggestionsResponse { suggestions, next_page_token })
    }

    async fn list_audit(&self, request: Request<pb::ListAuditRequest>) -> Result<pb::ListAuditResponse> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        let req = request.get_ref();
        let id = id_of("suggestion_id", &req.suggestion_id)?;
        // Whoever may see the suggestion may see its history.
        self.view(&scope, id).await?;
        let size = i64::from(renda_platform::page::page_size(req.page.as_ref())?);
        let after = match req.page.as_ref().map(|p| p.page_token.as_str()).filter(|t| !t.is_empty()) {
            None => None,
            Some(token) => Some(
                token
                    .parse::<i64>()
                    .map_err(|_| Error::invalid("page.page_token", "is not a token this service issued"))?,
            ),
        };
        let mut entries = audit::list(&self.pool, &scope.county, Some(&id.to_string()), after, size + 1).await?;
        let next_page_token = if entries.len() as i64 > size {
            entries.truncate(size as usize);
            entries.last().map(|e| e.seq.to_string()).unwrap_or_default()
        } else {
            String::new()
        };
        let entries = entries
            .into_iter()
            .map(|e| pb::AuditEntry {
                seq: e.seq,
                suggestion_id: e.entity_id,
                action: e.action,
                actor_id: e.actor_id,
                from_state: e.from_state,
                to_state: e.to_state,
                detail: e.detail.to_string(),
                at: Some(timestamp(e.at)),
                prev_hash: e.prev_hash,
                hash: e.hash,
            })
            .collect();
        Ok(pb::ListAuditResponse { entries, next_page_token })
    }

    async fn verify_audit(&self, request: Request<pb::VerifyAuditRequest>) -> Result<pb::VerifyAuditResponse> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        scope.caller.require_any_role(&[Role::Staff])?;
        let result = audit::verify(&self.pool, &scope.county).await?;
        Ok(pb::VerifyAuditResponse {
            intact: result.intact,
            entries_checked: result.entries_checked,
            first_broken_seq: result.first_broken_seq.unwrap_or(0),
            problem: result.problem.unwrap_or_default(),
        })
    }

    async fn statistics(&self, request: Request<pb::GetStatisticsRequest>) -> Result<pb::Statistics> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        let req = request.get_ref();
        let caller = &scope.caller;
        // Staff see any agency; an agency user only their own.
        let agency = if caller.has_role(Role::Staff) {
            Some(req.agency.trim()).filter(|a| !a.is_empty()).map(str::to_owned)
        } else if let (true, Some(own)) =
            (caller.has_role(Role::Agency) || caller.has_role(Role::AgencyHead), &caller.agency)
        {
            if !req.agency.is_empty() && req.agency != *own {
                return Err(AuthError::Forbidden("agency users see only their own agency's statistics".into()).into());
            }
            Some(own.clone())
        } else {
            return Err(AuthError::Forbidden("statistics need the role staff or agency".into()).into());
        };
        let from =
            Some(req.from_date.as_str()).filter(|d| !d.is_empty()).map(|d| date_of("from_date", d)).transpose()?;
        let to = Some(req.to_date.as_str()).filter(|d| !d.is_empty()).map(|d| date_of("to_date", d)).transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(Error::invalid("to_date", "must not be before from_date"));
        }
        let (stats, by_state) = store::statistics(&self.pool, &scope.county, agency.as_deref(), from, to).await?;
        let today = local_date(self.clock.now());
        let filters = store::Filters { agency: agency.clone(), overdue_only: true, ..store::Filters::default() };
        let page = Page { size: 200, before: None };
        let overdue_rows =
            store::list(&self.pool, &scope.county, &store::Visibility::County, &filters, today, &page).await?;
        let ratio = |n: i64, d: i64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        Ok(pb::Statistics {
            county: scope.county.to_string(),
            agency: agency.unwrap_or_default(),
            total: stats.total,
            by_state: by_state
                .into_iter()
                .map(|(state, count)| pb::StateCount { state: state_to_wire(State::parse(&state)) as i32, count })
                .collect(),
            replied: stats.replied,
            replied_on_time: stats.replied_on_time,
            on_time_rate: ratio(stats.replied_on_time, stats.replied),
            average_days_to_reply: stats.average_days_to_reply.unwrap_or(0.0),
            evaluated: stats.evaluated,
            satisfied: stats.satisfied,
            basically_satisfied: stats.basically_satisfied,
            unsatisfied: stats.unsatisfied,
            satisfaction_rate: ratio(stats.satisfied + stats.basically_satisfied, stats.evaluated),
            rehandled: stats.rehandled,
            rehandling_rate: ratio(stats.rehandled, stats.evaluated),
            overdue: overdue_rows
                .iter()
                .map(|r| to_wire(&r.suggestion, r.assignment.as_ref(), None, &[Relation::Staff], today))
                .collect(),
        })
    }

    /// Recomputes the provisional deadlines that waited for `year`'s calendar; returns how many.
    async fn confirm_deadlines(tx: &mut PgConnection, year: i32, by: &str, now: DateTime<Utc>) -> Result<usize> {
        let calendar = store::calendar(&mut *tx).await?;
        let waiting = store::provisional_assignments(&mut *tx, year).await?;
        let mut policies: std::collections::HashMap<String, Policy> = std::collections::HashMap::new();
        for a in &waiting {
            let Ok(county) = a.county.parse::<CountyCode>() else { continue };
            let policy = match policies.get(&a.county) {
                Some(p) => p.clone(),
                None => {
                    let p = store::policy(&mut *tx, &county).await?;
                    policies.insert(a.county.clone(), p.clone());
                    p
                }
            };
            let due = deadline::due_date(a.assigned_on, policy.period_for_round(a.round), &calendar);
            store::set_due_date(&mut *tx, a.assignment_id, due.due, due.provisional, &due.missing_years).await?;
            if due.due != a.due_date {
                // The schedule restarts for the corrected deadline.
                store::reset_notices(&mut *tx, a.assignment_id).await?;
            }
            let Some(row) = store::lock(&mut *tx, &county, a.suggestion_id).await? else { continue };
            let current = store::current_assignment(&mut *tx, a.suggestion_id).await?;
            let id = row.id.to_string();
            let detail = json!({"previous_due_date": a.due_date.to_string(), "due_date": due.due.to_string(), "calendar_year": year});
            audit::append(
                &mut *tx,
                &AuditRecord {
                    county: &county,
                    entity: "suggestion",
                    entity_id: &id,
                    action: "confirm_deadline",
                    actor_id: by,
                    from_state: row.state().as_str(),
                    to_state: row.state().as_str(),
                    detail,
                    at: now,
                },
            )
            .await?;
            let event = pb::DeadlineConfirmed {
                suggestion: Some(events::reference(&row, current.as_ref(), row.version)),
                agency: a.lead_agency.clone(),
                previous_due_date: a.due_date.to_string(),
                deadline: Some(events::deadline(due.due, due.provisional, &due.missing_years)),
                round: a.round,
                at: Some(timestamp(now)),
            };
            emit(&mut *tx, &county, row.id, &event, now).await?;
        }
        Ok(waiting.len())
    }

    // ---- county configuration

    async fn get_policy(&self, request: Request<pb::GetPolicyRequest>) -> Result<pb::Policy> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        let mut conn = self.pool.acquire().await?;
        Ok(policy_to_wire(&scope.county, &store::policy(&mut conn, &scope.county).await?))
    }

    async fn put_policy(&self, request: Request<pb::Policy>) -> Result<pb::Policy> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        scope.caller.require_any_role(&[Role::Staff])?;
        let req = request.get_ref();
        let input = PolicyInput {
            mode: match pb::DeadlineMode::try_from(req.mode) {
                Ok(pb::DeadlineMode::Months) => Some(DeadlineMode::Months),
                Ok(pb::DeadlineMode::CalendarDays) => Some(DeadlineMode::CalendarDays),
                Ok(pb::DeadlineMode::WorkingDays) => Some(DeadlineMode::WorkingDays),
                _ => None,
            },
            handling_period: i64::from(req.handling_period),
            rehandling_period: i64::from(req.rehandling_period),
            max_months_with_extension: i64::from(req.max_months_with_extension),
            remind_days_before: req.remind_days_before.iter().map(|d| i64::from(*d)).collect(),
            urge_after_days: i64::from(req.urge_after_days),
            supervise_after_days: i64::from(req.supervise_after_days),
            auto_assign: req.auto_assign,
            motion_min_cosigners: i64::from(req.motion_min_cosigners),
        };
        let policy = Policy::parse(&input).map_err(Error::Invalid)?;
        let mut tx = self.pool.begin().await?;
        store::put_policy(&mut tx, &scope.county, &policy, &scope.caller.id, self.clock.now()).await?;
        tx.commit().await?;
        Ok(policy_to_wire(&scope.county, &policy))
    }

    async fn put_agency(&self, request: Request<pb::Agency>) -> Result<pb::Agency> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        scope.caller.require_any_role(&[Role::Staff])?;
        let req = request.get_ref();
        let mut v = Violations::new();
        let code = req.code.trim();
        if code.is_empty()
            || code.len() > 64
            || !code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            v.add("code", "use 1-64 lowercase letters, digits and -");
        }
        let name = v.check(required_text("name", &req.name, 100));
        v.finish().map_err(Error::Invalid)?;
        let agency = store::AgencyRow { code: code.to_owned(), name: name.unwrap_or_default(), active: req.active };
        let mut tx = self.pool.begin().await?;
        store::put_agency(&mut tx, &scope.county, &agency).await?;
        tx.commit().await?;
        Ok(pb::Agency { county: scope.county.to_string(), code: agency.code, name: agency.name, active: agency.active })
    }

    async fn list_agencies(&self, request: Request<pb::ListAgenciesRequest>) -> Result<pb::ListAgenciesResponse> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        let mut conn = self.pool.acquire().await?;
        let agencies = store::agencies(&mut conn, &scope.county)
            .await?
            .into_iter()
            .map(|a| pb::Agency { county: scope.county.to_string(), code: a.code, name: a.name, active: a.active })
            .collect();
        Ok(pb::ListAgenciesResponse { agencies })
    }

    async fn put_rule(&self, request: Request<pb::RoutingRule>) -> Result<pb::RoutingRule> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        scope.caller.require_any_role(&[Role::Staff])?;
        let req = request.get_ref();
        let mut v = Violations::new();
        let id = if req.id.is_empty() { Some(Uuid::now_v7()) } else { v.check(wire::uuid("id", &req.id)) };
        let category = req.category.trim().to_owned();
        if category.chars().count() > 50 {
            v.add("category", "at most 50 characters");
        }
        let keywords: Vec<String> =
            req.keywords.iter().map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect();
        if keywords.len() > 50 || keywords.iter().any(|k| k.chars().count() > 30) {
            v.add("keywords", "at most 50 keywords of at most 30 characters");
        }
        if category.is_empty() && keywords.is_empty() {
            v.add("category", "give a category or keywords to match on");
        }
        let mut tx = self.pool.begin().await?;
        if store::agency(&mut tx, &scope.county, req.agency.trim()).await?.is_none() {
            v.add("agency", format!("{:?} is not an agency of county {}", req.agency, scope.county));
        }
        v.finish().map_err(Error::Invalid)?;
        let rule = store::RuleRow {
            id: id.unwrap_or_else(Uuid::now_v7),
            category,
            keywords,
            agency: req.agency.trim().to_owned(),
            priority: req.priority,
        };
        store::put_rule(&mut tx, &scope.county, &rule).await?;
        tx.commit().await?;
        Ok(rule_to_wire(&scope.county, rule))
    }

    async fn list_rules(&self, request: Request<pb::ListRoutingRulesRequest>) -> Result<pb::ListRoutingRulesResponse> {
        let scope = self.verifier.scoped(request.metadata(), &request.get_ref().county)?;
        scope.caller.require_any_role(&[Role::Staff])?;
        let mut conn = self.pool.acquire().await?;
        let rules =
            store::rules(&mut conn, &scope.county).await?.into_iter().map(|r| rule_to_wire(&scope.county, r)).collect();
        Ok(pb::ListRoutingRulesResponse { rules })
    }

    async fn load_calendar(
        &self,
        request: Request<pb::LoadHolidayCalendarRequest>,
    ) -> Result<pb::LoadHolidayCalendarResponse> {
        let caller = self.verifier.authenticate(request.metadata())?;
        caller.require_any_role(&[Role::Admin])?;
        let req = request.get_ref();
        if !(2000..=2100).contains(&req.year) {
            return Err(Error::invalid("year", "must be between 2000 and 2100"));
        }
        let year = YearCalendar::parse_tsv(req.year, &req.tsv).map_err(|e| Error::invalid("tsv", e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        store::load_holiday_year(&mut tx, &year, &caller.id).await?;
        let confirmed = Self::confirm_deadlines(&mut tx, req.year, &caller.id, self.clock.now()).await?;
        tx.commit().await?;
        tracing::info!(year = req.year, by = %caller.id, confirmed, "holiday calendar loaded");
        Ok(pb::LoadHolidayCalendarResponse {
            year: req.year,
            days_off: i32::try_from(year.days_off()).unwrap_or(i32::MAX),
            make_up_working_days: i32::try_from(year.make_up_working_days()).unwrap_or(i32::MAX),
        })
    }
}

/// The audit entry of a suggestion's creation.
async fn audit_creation(locked: &mut Locked, action: &str, to: State) -> Result<()> {
    let detail = json!({"number": locked.row.number(), "kind": locked.row.kind});
    let actor = locked.scope.caller.id.clone();
    locked.audit(action, &actor, "", to, detail).await
}

/// The audit entry of an automatic change (auto-assignment).
async fn audit_system(
    locked: &mut Locked,
    action: Action,
    from: State,
    to: State,
    detail: serde_json::Value,
) -> Result<()> {
    locked.audit(action.as_str(), "system", from.as_str(), to, detail).await
}

fn filters(req: &pb::ListSuggestionsRequest) -> Result<store::Filters> {
    let mut states = Vec::new();
    for (i, raw) in req.states.iter().enumerate() {
        match pb::SuggestionState::try_from(*raw).ok().and_then(state_from_wire) {
            Some(state) => states.push(state),
            None => return Err(Error::invalid(&format!("states[{i}]"), format!("{raw} is not a state"))),
        }
    }
    let text = req.text.trim();
    if text.chars().count() > 100 {
        return Err(Error::invalid("text", "at most 100 characters"));
    }
    let some = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(store::Filters {
        states,
        agency: some(&req.agency),
        deputy_id: some(&req.deputy_id),
        category: some(&req.category),
        overdue_only: req.overdue_only,
        text: some(text),
        key_only: req.key_only,
    })
}

fn policy_to_wire(county: &CountyCode, p: &Policy) -> pb::Policy {
    let signed = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    pb::Policy {
        county: county.to_string(),
        mode: match p.mode {
            DeadlineMode::Months => pb::DeadlineMode::Months,
            DeadlineMode::CalendarDays => pb::DeadlineMode::CalendarDays,
            DeadlineMode::WorkingDays => pb::DeadlineMode::WorkingDays,
        } as i32,
        handling_period: signed(p.handling_period),
        rehandling_period: signed(p.rehandling_period),
        max_months_with_extension: signed(p.max_months_with_extension),
        remind_days_before: p.remind_days_before.iter().copied().map(signed).collect(),
        urge_after_days: signed(p.urge_after_days),
        supervise_after_days: signed(p.supervise_after_days),
        auto_assign: p.auto_assign,
        motion_min_cosigners: signed(p.motion_min_cosigners),
    }
}

fn rule_to_wire(county: &CountyCode, r: store::RuleRow) -> pb::RoutingRule {
    pb::RoutingRule {
        county: county.to_string(),
        id: r.id.to_string(),
        category: r.category,
        keywords: r.keywords,
        agency: r.agency,
        priority: r.priority,
    }
}

#[tonic::async_trait]
impl pb::suggestion_service_server::SuggestionService for SuggestionApi {
    async fn create_suggestion(
        &self,
        r: Request<pb::CreateSuggestionRequest>,
    ) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(self.create(r).await?))
    }
    async fn update_draft(&self, r: Request<pb::UpdateDraftRequest>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::update_draft(self, r).await?))
    }
    async fn submit_draft(&self, r: Request<pb::SuggestionAction>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::submit_draft(self, r).await?))
    }
    async fn get_suggestion(&self, r: Request<pb::GetSuggestionRequest>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(self.get(r).await?))
    }
    async fn list_suggestions(
        &self,
        r: Request<pb::ListSuggestionsRequest>,
    ) -> Result<Response<pb::ListSuggestionsResponse>, Status> {
        Ok(Response::new(self.list(r).await?))
    }
    async fn register(&self, r: Request<pb::SuggestionAction>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::register(self, r).await?))
    }
    async fn refuse_registration(&self, r: Request<pb::ReasonRequest>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::refuse_registration(self, r).await?))
    }
    async fn assign(&self, r: Request<pb::AssignRequest>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::assign(self, r).await?))
    }
    async fn accept(&self, r: Request<pb::SuggestionAction>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::accept(self, r).await?))
    }
    async fn return_assignment(&self, r: Request<pb::ReasonRequest>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::return_assignment(self, r).await?))
    }
    async fn report_progress(&self, r: Request<pb::ReportProgressRequest>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::report_progress(self, r, false).await?))
    }
    async fn submit_co_agency_opinion(
        &self,
        r: Request<pb::ReportProgressRequest>,
    ) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::report_progress(self, r, true).await?))
    }
    async fn request_extension(
        &self,
        r: Request<pb::RequestExtensionRequest>,
    ) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::request_extension(self, r).await?))
    }
    async fn decide_extension(
        &self,
        r: Request<pb::DecideExtensionRequest>,
    ) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::decide_extension(self, r).await?))
    }
    async fn reply(&self, r: Request<pb::ReplyRequest>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::reply(self, r).await?))
    }
    async fn evaluate(&self, r: Request<pb::EvaluateRequest>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::evaluate(self, r).await?))
    }
    async fn merge(&self, r: Request<pb::MergeRequest>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::merge(self, r).await?))
    }
    async fn mark_key(&self, r: Request<pb::MarkKeyRequest>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::mark_key(self, r).await?))
    }
    async fn close(&self, r: Request<pb::ReasonRequest>) -> Result<Response<pb::Suggestion>, Status> {
        Ok(Response::new(SuggestionApi::close(self, r).await?))
    }
    async fn list_audit(&self, r: Request<pb::ListAuditRequest>) -> Result<Response<pb::ListAuditResponse>, Status> {
        Ok(Response::new(SuggestionApi::list_audit(self, r).await?))
    }
    async fn verify_audit(
        &self,
        r: Request<pb::VerifyAuditRequest>,
    ) -> Result<Response<pb::VerifyAuditResponse>, Status> {
        Ok(Response::new(SuggestionApi::verify_audit(self, r).await?))
    }
    async fn get_statistics(&self, r: Request<pb::GetStatisticsRequest>) -> Result<Response<pb::Statistics>, Status> {
        Ok(Response::new(self.statistics(r).await?))
    }
    async fn get_policy(&self, r: Request<pb::GetPolicyRequest>) -> Result<Response<pb::Policy>, Status> {
        Ok(Response::new(SuggestionApi::get_policy(self, r).await?))
    }
    async fn put_policy(&self, r: Request<pb::Policy>) -> Result<Response<pb::Policy>, Status> {
        Ok(Response::new(SuggestionApi::put_policy(self, r).await?))
    }
    async fn put_agency(&self, r: Request<pb::Agency>) -> Result<Response<pb::Agency>, Status> {
        Ok(Response::new(SuggestionApi::put_agency(self, r).await?))
    }
    async fn list_agencies(
        &self,
        r: Request<pb::ListAgenciesRequest>,
    ) -> Result<Response<pb::ListAgenciesResponse>, Status> {
        Ok(Response::new(SuggestionApi::list_agencies(self, r).await?))
    }
    async fn put_routing_rule(&self, r: Request<pb::RoutingRule>) -> Result<Response<pb::RoutingRule>, Status> {
        Ok(Response::new(self.put_rule(r).await?))
    }
    async fn list_routing_rules(
        &self,
        r: Request<pb::ListRoutingRulesRequest>,
    ) -> Result<Response<pb::ListRoutingRulesResponse>, Status> {
        Ok(Response::new(self.list_rules(r).await?))
    }
    async fn load_holiday_calendar(
        &self,
        r: Request<pb::LoadHolidayCalendarRequest>,
    ) -> Result<Response<pb::LoadHolidayCalendarResponse>, Status> {
        Ok(Response::new(self.load_calendar(r).await?))
    }
}

// ---- wire conversions

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

pub fn state_to_wire(state: Option<State>) -> pb::SuggestionState {
    use pb::SuggestionState as W;
    match state {
        None => W::Unspecified,
        Some(State::Draft) => W::Draft,
        Some(State::Submitted) => W::Submitted,
        Some(State::Registered) => W::Registered,
        Some(State::NotRegistered) => W::NotRegistered,
        Some(State::Assigned) => W::Assigned,
        Some(State::Returned) => W::Returned,
        Some(State::InProgress) => W::InProgress,
        Some(State::Replied) => W::Replied,
        Some(State::UnderSupervision) => W::UnderSupervision,
        Some(State::Closed) => W::Closed,
        Some(State::Merged) => W::Merged,
    }
}

fn state_from_wire(state: pb::SuggestionState) -> Option<State> {
    crate::domain::lifecycle::ALL_STATES.into_iter().find(|s| state_to_wire(Some(*s)) == state)
}

fn result_to_wire(result: &str) -> pb::ResultClass {
    match result {
        "a" => pb::ResultClass::A,
        "b" => pb::ResultClass::B,
        "c" => pb::ResultClass::C,
        _ => pb::ResultClass::Unspecified,
    }
}

fn satisfaction_to_wire(s: &str) -> pb::Satisfaction {
    match Satisfaction::parse(s) {
        Some(Satisfaction::Satisfied) => pb::Satisfaction::Satisfied,
        Some(Satisfaction::BasicallySatisfied) => pb::Satisfaction::BasicallySatisfied,
        Some(Satisfaction::Unsatisfied) => pb::Satisfaction::Unsatisfied,
        None => pb::Satisfaction::Unspecified,
    }
}

fn to_wire(
    row: &SuggestionRow,
    assignment: Option<&AssignmentRow>,
    history: Option<&History>,
    relations: &[Relation],
    today: NaiveDate,
) -> pb::Suggestion {
    let state = row.state();
    let overdue = state.is_being_handled() && assignment.is_some_and(|a| a.replied_at.is_none() && a.due_date < today);
    pb::Suggestion {
        id: row.id.to_string(),
        county: row.county.clone(),
        number: row.number().to_owned(),
        kind: kind_to_wire(row.kind()) as i32,
        state: state_to_wire(Some(state)) as i32,
        title: row.title.clone(),
        content: row.content.clone(),
        category: row.category.clone(),
        deputy_id: row.deputy_id.clone(),
        deputy_name: row.deputy_name.clone(),
        submitted_at: row.submitted_at.map(timestamp),
        co_signers: row.co_signers.clone(),
        origin: row.origin_source.as_ref().map(|source| pb::Origin {
            source: source.clone(),
            reference: row.origin_reference.clone().unwrap_or_default(),
            note: row.origin_note.clone().unwrap_or_default(),
        }),
        version: row.version,
        key: row.is_key,
        merged_into: row.merged_into.map(|id| id.to_string()).unwrap_or_default(),
        reason: row.reason.clone().unwrap_or_default(),
        proposed_agency: row.proposed_agency.clone().unwrap_or_default(),
        assignment: assignment.map(|a| pb::Assignment {
            lead_agency: a.lead_agency.clone(),
            lead_agency_name: a.lead_agency_name.clone().unwrap_or_default(),
            co_agencies: a.co_agencies.clone(),
            assigned_at: Some(timestamp(a.assigned_at)),
            deadline: Some(events::assignment_deadline(a)),
            round: a.round,
            accepted: a.accepted_at.is_some(),
        }),
        progress: history
            .map(|h| {
                h.progress
                    .iter()
                    .map(|p| pb::ProgressUpdate {
                        id: p.id.to_string(),
                        agency: p.agency.clone(),
                        author_id: p.author_id.clone(),
                        text: p.text.clone(),
                        attachments: p.attachments.clone(),
                        co_agency_opinion: p.co_agency_opinion,
                        at: Some(timestamp(p.at)),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        extensions: history
            .map(|h| {
                h.extensions
                    .iter()
                    .map(|e| pb::ExtensionRequest {
                        id: e.id.to_string(),
                        requested_due_date: e.requested_due.to_string(),
                        reason: e.reason.clone(),
                        status: e.status.clone(),
                        decided_by: e.decided_by.clone().unwrap_or_default(),
                        requested_at: Some(timestamp(e.requested_at)),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        replies: history
            .map(|h| {
                h.replies
                    .iter()
                    .map(|r| pb::Reply {
                        result: result_to_wire(&r.result) as i32,
                        content: r.content.clone(),
                        contact_note: r.contact_note.clone(),
                        replied_at: Some(timestamp(r.replied_at)),
                        on_time: r.on_time,
                        round: r.round,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        evaluations: history
            .map(|h| {
                h.evaluations
                    .iter()
                    .map(|e| pb::Evaluation {
                        satisfaction: satisfaction_to_wire(&e.satisfaction) as i32,
                        comment: e.comment.clone(),
                        at: Some(timestamp(e.at)),
                        round: e.round,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        overdue,
        allowed_actions: allowed_for(state, relations).into_iter().map(|a| a.as_str().to_owned()).collect(),
        created_at: Some(timestamp(row.created_at)),
    }
}

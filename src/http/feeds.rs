//! Atom feeds (RFC 4287) of the public changes: `/feeds/changes.atom` for
//! the whole catalogue, `/feeds/projects/{slug}.atom` for one public
//! project. Anonymous readings of the journal: a feed never shows an
//! agents-only change, whoever asks, so it can be cached by anyone.
//!
//! Each answer carries an `ETag` (its body's hash) and a `Last-Modified`
//! (its newest entry); `If-None-Match`, or else `If-Modified-Since`, gets a
//! 304 when nothing changed.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use poem::http::{StatusCode, header};
use poem::web::{Data, Path};
use poem::{Request, Response, handler};

use super::{AppState, caching};
use crate::catalogue::Audience;
use crate::store::{ChangeFilter, ChangeKind, ChangedSubject, RecordedChange, StoreError};

/// Entries in a feed: the newest changes.
const ENTRIES: u64 = 50;
const ATOM: &str = "application/atom+xml; charset=utf-8";
/// Feed readers poll; a minute's staleness is nothing to them.
const CACHE_CONTROL: &str = "public, max-age=60";

/// `GET /feeds/changes.atom`.
#[handler]
pub async fn catalogue_feed(request: &Request, state: Data<&AppState>) -> Response {
    let feed = Feed {
        path: "/feeds/changes.atom".to_owned(),
        title: "Catalogue du programme 10 % : changements".to_owned(),
        alternate: "/".to_owned(),
        filter: ChangeFilter::default(),
    };
    answer(request, &state, feed).await
}

/// `GET /feeds/projects/{slug}.atom`: 404 unless the project is public.
#[handler]
pub async fn project_feed(
    request: &Request,
    Path(file): Path<String>,
    state: Data<&AppState>,
) -> Response {
    let Some(slug) = file.strip_suffix(".atom") else {
        return not_found("feeds end in .atom");
    };
    let project = match state
        .store
        .projects_by_slugs(&[slug.to_owned()], Audience::Public)
        .await
    {
        Ok(found) => found.into_iter().next(),
        Err(error) => return failed(&error),
    };
    let Some(project) = project else {
        return not_found(&format!("there is no public project `{slug}`"));
    };
    let feed = Feed {
        path: format!("/feeds/projects/{}.atom", project.slug),
        title: format!("{} : changements", project.name),
        alternate: format!("/#/projets/{}", project.slug),
        filter: ChangeFilter {
            kinds: None,
            subjects: Some(vec![ChangedSubject::Project(project.id)]),
        },
    };
    answer(request, &state, feed).await
}

/// What a feed shows.
struct Feed {
    /// Its own path, under the gateway's public URL.
    path: String,
    title: String,
    /// The page it is about, in the portal.
    alternate: String,
    filter: ChangeFilter,
}

fn not_found(message: &str) -> Response {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .header(header::CACHE_CONTROL, "no-store")
        .content_type("text/plain; charset=utf-8")
        .body(message.to_owned())
}

fn failed(error: &StoreError) -> Response {
    tracing::error!(%error, "cannot read the journal for a feed");
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header(header::CACHE_CONTROL, "no-store")
        .content_type("text/plain; charset=utf-8")
        .body("the catalogue cannot be read now; try again later")
}

async fn answer(request: &Request, state: &AppState, feed: Feed) -> Response {
    let changes = match state
        .store
        .latest_changes(Audience::Public, ENTRIES, &feed.filter)
        .await
    {
        Ok(changes) => changes,
        Err(error) => return failed(&error),
    };
    let names = match names(state, &changes).await {
        Ok(names) => names,
        Err(error) => return failed(&error),
    };
    let base = state
        .authenticator
        .own_issuer()
        .issuer()
        .trim_end_matches('/');
    // A feed without entries is as old as the epoch: its body never changes.
    let updated = changes.first().map_or(DateTime::UNIX_EPOCH, |c| c.at);
    let body = render(base, &feed, &changes, &names, updated);
    let etag = caching::etag_of(body.as_bytes());
    let last_modified = updated.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let builder = Response::builder()
        .header(header::ETAG, etag.as_str())
        .header(header::LAST_MODIFIED, last_modified.as_str())
        .header(header::CACHE_CONTROL, CACHE_CONTROL);
    if unchanged(request, &etag, updated) {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    builder.content_type(ATOM).body(body)
}

/// Whether the caller's copy is current: by `If-None-Match` when it sends
/// one (RFC 9110 §13.2.2), else by `If-Modified-Since`.
fn unchanged(request: &Request, etag: &str, updated: DateTime<Utc>) -> bool {
    if request.headers().contains_key(header::IF_NONE_MATCH) {
        return caching::matches(request, etag);
    }
    request
        .header(header::IF_MODIFIED_SINCE)
        .and_then(|since| DateTime::parse_from_rfc2822(&since.replace("GMT", "+0000")).ok())
        .is_some_and(|since| updated.timestamp() <= since.timestamp())
}

/// What the changes' subjects are called and where the portal shows them,
/// for those anyone may see now.
async fn names(
    state: &AppState,
    changes: &[RecordedChange],
) -> Result<HashMap<ChangedSubject, (String, String)>, StoreError> {
    let mut projects = Vec::new();
    let mut organizations = Vec::new();
    for change in changes {
        match change.subject {
            ChangedSubject::Project(id) => projects.push(id),
            ChangedSubject::Organization(id) => organizations.push(id),
        }
    }
    let mut names = HashMap::new();
    for project in state
        .store
        .projects_by_ids(&projects, Audience::Public)
        .await?
    {
        names.insert(
            ChangedSubject::Project(project.id),
            (project.name, format!("/#/projets/{}", project.slug)),
        );
    }
    for organization in state.store.organizations_by_ids(&organizations).await? {
        names.insert(
            ChangedSubject::Organization(organization.id),
            (
                organization.name,
                format!("/#/organisations/{}", organization.slug),
            ),
        );
    }
    Ok(names)
}

/// What a change's kind says, in the feed's words.
fn described(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::ProjectCreated => "nouveau projet",
        ChangeKind::ProjectUpdated => "projet modifié",
        ChangeKind::ProjectArchived => "projet archivé",
        ChangeKind::LinkAdded => "lien ajouté",
        ChangeKind::LinkRemoved => "lien retiré",
        ChangeKind::FactsChanged => "informations moissonnées mises à jour",
        ChangeKind::OrganizationCreated => "nouvelle organisation",
        ChangeKind::OrganizationUpdated => "organisation modifiée",
        ChangeKind::UseDeclared => "utilisation déclarée",
        ChangeKind::UseWithdrawn => "utilisation retirée",
    }
}

fn render(
    base: &str,
    feed: &Feed,
    changes: &[RecordedChange],
    names: &HashMap<ChangedSubject, (String, String)>,
    updated: DateTime<Utc>,
) -> String {
    let mut xml = String::with_capacity(1024 + 512 * changes.len());
    let _ = write!(
        xml,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"fr\">\n\
         <id>{base}{path}</id>\n\
         <title>{title}</title>\n\
         <updated>{updated}</updated>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{base}{path}\"/>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{base}{alternate}\"/>\n\
         <author><name>Catalogue du programme 10 %</name></author>\n\
         <generator>catalogue-gateway</generator>\n",
        path = escape(&feed.path),
        title = escape(&feed.title),
        updated = updated.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        alternate = escape(&feed.alternate),
    );
    for change in changes {
        // Public changes only: each has its place among them.
        let Some(ordinal) = change.public_seq else {
            continue;
        };
        // A subject that is no longer public keeps its change, nameless.
        let (name, page) = names
            .get(&change.subject)
            .map_or(("(plus public)", "/"), |(name, page)| {
                (name.as_str(), page.as_str())
            });
        let fields: Vec<&str> = change.fields.iter().map(|f| f.as_db()).collect();
        let _ = write!(
            xml,
            "<entry>\n\
             <id>{base}/feeds/changes.atom#change-{ordinal}</id>\n\
             <title>{name} : {kind}</title>\n\
             <updated>{at}</updated>\n\
             <link rel=\"alternate\" type=\"text/html\" href=\"{base}{page}\"/>\n\
             <category term=\"{term}\"/>\n\
             <summary>{summary}</summary>\n\
             </entry>\n",
            name = escape(name),
            kind = described(change.kind),
            at = change.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            page = escape(page),
            term = change.kind.as_db(),
            summary = if fields.is_empty() {
                escape(described(change.kind))
            } else {
                escape(&format!("Champs : {}", fields.join(", ")))
            },
        );
    }
    xml.push_str("</feed>\n");
    xml
}

/// `text` as XML character data or attribute value.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

//! `GET /export/{projects,repositories,datasets}.csv`: the GraphQL lists as
//! CSV files, public material only, filtered by the same filters as the
//! lists (`?status=ACTIVE&season=2`, `?forge=GITHUB`, `?provider=DATA_GOUV`),
//! each filter's query parameter read from the list's GraphQL input type.

use poem::web::Data;
use poem::{Request, Response, handler};

use super::AppState;
use super::fixed::{self, Failure};
use super::formats;
use super::parameters;
use crate::formats::csv::{DATASETS, PROJECTS, REPOSITORIES, Table};

/// `text/csv` with its encoding and the header line RFC 4180 allows to announce.
const CSV: &str = "text/csv; charset=utf-8; header=present";

/// The tables exported, whose filters `AppState` reads from the SDL once.
pub const TABLES: [&Table; 3] = [&PROJECTS, &REPOSITORIES, &DATASETS];

async fn export(state: &AppState, request: &Request, table: &'static Table) -> Response {
    let filter = &state.query_parameters[table.filter_type];
    let variables = match parameters::variables(filter, request.uri().query().unwrap_or("")) {
        Ok(variables) => variables,
        Err(message) => return Failure::bad_request(message).response(),
    };
    formats::serve(state, request, CSV, |bucket| async move {
        let nodes = fixed::all_nodes(
            state,
            &bucket,
            table.document,
            table.connection,
            variables,
            state.export_max_rows,
        )
        .await?;
        Ok(table.write(&nodes))
    })
    .await
}

#[handler]
pub async fn projects(request: &Request, state: Data<&AppState>) -> Response {
    export(&state, request, &PROJECTS).await
}

#[handler]
pub async fn repositories(request: &Request, state: Data<&AppState>) -> Response {
    export(&state, request, &REPOSITORIES).await
}

#[handler]
pub async fn datasets(request: &Request, state: Data<&AppState>) -> Response {
    export(&state, request, &DATASETS).await
}

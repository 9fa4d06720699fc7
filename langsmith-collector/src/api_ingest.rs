//! Ingest routes: `/runs/multipart`, `/runs/batch`, `POST /runs`,
//! `PATCH /runs/{id}`, `POST /feedback`.

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::body::{self, BodyError};
use crate::ingest::{self, Ingested, Op, RunKind};
use crate::multipart;
use crate::record::Slot;
use crate::server::{ApiError, AppState, detail, json_response};

fn body_error(e: BodyError) -> ApiError {
    let status = match e {
        BodyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        BodyError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        BodyError::Read(_) | BodyError::Decode(_) => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, e.to_string())
}

/// Reads the raw body under the limit and records its size.
async fn read_raw(
    st: &AppState,
    headers: &HeaderMap,
    body: Body,
    slot: &Slot,
) -> Result<Bytes, ApiError> {
    let raw = body::read_limited(headers, body, st.cfg.body_limit, st.cfg.drain_cap)
        .await
        .map_err(body_error)?;
    slot.update(|r| r.body_size = raw.len());
    Ok(raw)
}

/// Reads, decodes and parses a JSON body.
async fn read_json(
    st: &AppState,
    headers: &HeaderMap,
    body: Body,
    slot: &Slot,
) -> Result<Value, ApiError> {
    let raw = read_raw(st, headers, body, slot).await?;
    let decoded = body::decode(headers, raw, st.cfg.decoded_limit).map_err(body_error)?;
    slot.update(|r| r.decoded_size = Some(decoded.len()));
    serde_json::from_slice(&decoded)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

/// Reads a JSON body as [`read_json`] does (400, 413 or 415 when it cannot
/// be read) and hands it to `parse`; what `parse` rejects is answered 422
/// with its message.
async fn read_json_with<T>(
    st: &AppState,
    headers: &HeaderMap,
    body: Body,
    slot: &Slot,
    parse: impl FnOnce(Value) -> Result<T, String>,
) -> Result<T, ApiError> {
    let value = read_json(st, headers, body, slot).await?;
    parse(value).map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m))
}

/// Stores what was accepted and answers: 202 if everything was good, 422
/// listing the rejected items otherwise (the good ones are stored either way).
async fn store_and_answer(st: &AppState, ing: Ingested) -> Response {
    let total = ing.ops.len() + ing.problems.len();
    let summary = if ing.ops.is_empty() {
        Default::default()
    } else {
        match st.store.write(ing.ops).await {
            Ok(s) => s,
            Err(e) => return detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    };
    let accepted = json!({
        "runs": summary.runs,
        "feedback": summary.feedback,
        "attachments": summary.attachments,
    });
    match ing.problems.first() {
        None => json_response(StatusCode::ACCEPTED, json!({ "accepted": accepted })),
        Some(first) => json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "detail": format!(
                    "{} of {} items rejected; first: {}: {}",
                    ing.problems.len(), total, first.item, first.message
                ),
                "errors": ing.problems,
                "accepted": accepted,
            }),
        ),
    }
}

/// `POST /runs/multipart`.
pub(crate) async fn multipart(
    State(st): State<AppState>,
    Extension(slot): Extension<Slot>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let raw = match read_raw(&st, &headers, body, &slot).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(boundary) = multipart::boundary(content_type) else {
        return detail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be multipart/form-data with a boundary",
        );
    };
    let limit = st.cfg.decoded_limit;
    let slot2 = slot.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Ingested, ApiError> {
        let decoded = body::decode(&headers, raw, limit).map_err(body_error)?;
        let parts = multipart::parse(&decoded, &boundary).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("malformed multipart body: {e}"),
            )
        })?;
        slot2.update(|r| {
            r.decoded_size = Some(decoded.len());
            r.parts = Some(parts.len());
            r.part_names = parts.iter().map(|p| p.name.clone()).collect();
            r.length_mismatches = parts.iter().filter(|p| p.length_mismatch()).count();
        });
        Ok(ingest::from_parts(&parts))
    })
    .await;
    match work {
        Ok(Ok(ing)) => store_and_answer(&st, ing).await,
        Ok(Err(e)) => e.into_response(),
        Err(e) => detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("parsing failed: {e}"),
        ),
    }
}

/// `POST /runs/batch`: `{"post": [...], "patch": [...]}`.
pub(crate) async fn batch(
    State(st): State<AppState>,
    Extension(slot): Extension<Slot>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match read_json_with(&st, &headers, body, &slot, ingest::from_batch).await {
        Ok(ing) => store_and_answer(&st, ing).await,
        Err(e) => e.into_response(),
    }
}

/// Stores one op and answers as [`store_and_answer`] does.
async fn store_one(st: &AppState, op: Op) -> Response {
    let ing = Ingested {
        ops: vec![op],
        problems: Vec::new(),
    };
    store_and_answer(st, ing).await
}

/// `POST /runs`: one run.
pub(crate) async fn create_run(
    State(st): State<AppState>,
    Extension(slot): Extension<Slot>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let parse = |v| ingest::run_op(RunKind::Post, v, None);
    match read_json_with(&st, &headers, body, &slot, parse).await {
        Ok(op) => store_one(&st, op).await,
        Err(e) => e.into_response(),
    }
}

/// `PATCH /runs/{id}`: an update of one run.
pub(crate) async fn update_run(
    State(st): State<AppState>,
    Extension(slot): Extension<Slot>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("run id '{id}' is not a UUID"),
        );
    };
    let parse = |v| ingest::run_op(RunKind::Patch, v, Some(id));
    match read_json_with(&st, &headers, body, &slot, parse).await {
        Ok(op) => store_one(&st, op).await,
        Err(e) => e.into_response(),
    }
}

/// `POST /feedback`: answers with the stored feedback object.
pub(crate) async fn create_feedback(
    State(st): State<AppState>,
    Extension(slot): Extension<Slot>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let parse = |v| ingest::feedback_op(v, None);
    let op = match read_json_with(&st, &headers, body, &slot, parse).await {
        Ok(op) => op,
        Err(e) => return e.into_response(),
    };
    let doc = match &op {
        Op::Feedback { doc, .. } => Value::Object(doc.clone()),
        _ => Value::Null,
    };
    match st.store.write(vec![op]).await {
        Ok(_) => json_response(StatusCode::OK, doc),
        Err(e) => detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

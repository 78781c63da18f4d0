//! JSON in and out: answers, errors (`{"error": "…"}`, as aptly sends
//! them), and a request body read with a cap and checked field by field so
//! a bad field is named.

use std::error::Error as StdError;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Limited};
use hyper::StatusCode;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use serde::Serialize;
use serde_json::{Map, Value};

use super::super::response::{Payload, REVALIDATE, Reply};
use crate::exit::{ExitCode, USAGE, VERIFICATION};

/// Largest JSON request body.
const JSON_LIMIT: usize = 1024 * 1024;

/// A request's answer: a status and a JSON document.
pub(super) type Answer = Result<(StatusCode, Value), ApiError>;

/// A refused or failed request: the status and what to tell the client.
#[derive(Debug)]
pub(super) struct ApiError {
    pub(super) status: StatusCode,
    pub(super) message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub(super) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(super) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// An operation's error: 404 when `missing` says so, 409 when
    /// `busy`, else by its exit code (operator input and failed checks
    /// 400, anything else 500).
    pub(super) fn from_op<E: StdError + ExitCode>(e: &E, missing: bool, busy: bool) -> ApiError {
        let status = if missing {
            StatusCode::NOT_FOUND
        } else if busy {
            StatusCode::CONFLICT
        } else {
            match e.exit_code() {
                USAGE | VERIFICATION => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            }
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::warn!(error = %chain(e), "api request failed");
        }
        ApiError::new(status, chain(e))
    }
}

/// An error and its causes, `: `-joined.
pub(super) use crate::exit::chain;

/// `value` as a JSON reply; never cached.
pub(super) fn json_reply(status: StatusCode, value: &impl Serialize) -> Reply {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    Reply::new(status, Payload::Bytes(Bytes::from(body)))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, REVALIDATE)
}

/// The reply to an answer.
pub(super) fn answer_reply(answer: Answer) -> Reply {
    match answer {
        Ok((status, value)) => json_reply(status, &value),
        Err(e) => error_reply(&e),
    }
}

pub(super) fn error_reply(e: &ApiError) -> Reply {
    let mut reply = json_reply(e.status, &serde_json::json!({"error": e.message}));
    if e.status == StatusCode::UNAUTHORIZED {
        reply.headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"debvault\""),
        );
    }
    reply
}

/// A JSON object body, its fields read one by one.
#[derive(Debug, Default)]
pub(super) struct JsonBody(Map<String, Value>);

impl JsonBody {
    /// Reads at most 1 MiB; an empty body is an empty object.
    pub(super) async fn read(body: Incoming) -> Result<JsonBody, ApiError> {
        let bytes = match Limited::new(body, JSON_LIMIT).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("a JSON body is at most {JSON_LIMIT} bytes"),
                ));
            }
            Err(e) => return Err(ApiError::bad_request(format!("cannot read the body: {e}"))),
        };
        JsonBody::parse(&bytes)
    }

    pub(super) fn parse(bytes: &[u8]) -> Result<JsonBody, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody::default());
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(JsonBody(map)),
            Ok(_) => Err(ApiError::bad_request("the body must be a JSON object")),
            Err(e) => Err(ApiError::bad_request(format!("the body is not JSON: {e}"))),
        }
    }

    fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    /// An optional string field.
    pub(super) fn string(&self, field: &str) -> Result<Option<String>, ApiError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::bad_request(format!(
                "field `{field}` must be a string"
            ))),
        }
    }

    /// A string field that must be there and not be empty.
    pub(super) fn required(&self, field: &str) -> Result<String, ApiError> {
        match self.string(field)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ApiError::bad_request(format!(
                "field `{field}` is required"
            ))),
        }
    }

    /// An optional boolean field.
    pub(super) fn bool(&self, field: &str) -> Result<Option<bool>, ApiError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::bad_request(format!(
                "field `{field}` must be true or false"
            ))),
        }
    }

    /// An optional list of strings.
    pub(super) fn strings(&self, field: &str) -> Result<Vec<String>, ApiError> {
        let bad = || ApiError::bad_request(format!("field `{field}` must be a list of strings"));
        match self.get(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
                .collect(),
            Some(_) => Err(bad()),
        }
    }

    /// A list of `{"Name": …, "Component": …}` objects (aptly's `Source`).
    pub(super) fn sources(&self, field: &str) -> Result<Vec<(String, Option<String>)>, ApiError> {
        let bad = || {
            ApiError::bad_request(format!(
                "field `{field}` must be a list of objects with a string `Name` and an optional `Component`"
            ))
        };
        let Some(Value::Array(items)) = self.get(field) else {
            return match self.get(field) {
                None => Ok(Vec::new()),
                Some(_) => Err(bad()),
            };
        };
        items
            .iter()
            .map(|item| {
                let obj = item.as_object().ok_or_else(bad)?;
                let name = obj.get("Name").and_then(Value::as_str).ok_or_else(bad)?;
                let component = match obj.get("Component") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(c)) if c.is_empty() => None,
                    Some(Value::String(c)) => Some(c.clone()),
                    Some(_) => return Err(bad()),
                };
                Ok((name.to_owned(), component))
            })
            .collect()
    }

    /// A nested object (aptly's `Signing`).
    pub(super) fn object(&self, field: &str) -> Result<JsonBody, ApiError> {
        match self.get(field) {
            None => Ok(JsonBody::default()),
            Some(Value::Object(map)) => Ok(JsonBody(map.clone())),
            Some(_) => Err(ApiError::bad_request(format!(
                "field `{field}` must be an object"
            ))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bad_fields_are_named() {
        let body =
            JsonBody::parse(br#"{"Name": 1, "Sources": [{"Name": "s"}], "Skip": "no"}"#).unwrap();
        assert!(
            body.required("Name")
                .unwrap_err()
                .message
                .contains("`Name`")
        );
        assert!(
            body.required("Comment")
                .unwrap_err()
                .message
                .contains("`Comment` is required")
        );
        assert_eq!(body.sources("Sources").unwrap(), [("s".to_owned(), None)]);
        assert!(body.bool("Skip").unwrap_err().message.contains("`Skip`"));
        assert_eq!(
            JsonBody::parse(b"[1]").unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert!(
            JsonBody::parse(b"{nope")
                .unwrap_err()
                .message
                .contains("not JSON")
        );
        assert!(
            JsonBody::parse(b" ")
                .unwrap()
                .string("Name")
                .unwrap()
                .is_none()
        );
    }
}

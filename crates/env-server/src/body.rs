//! Request bodies and query strings validated the way FastAPI + pydantic v2 validate them, so a
//! bad request gets the same `422 {"detail": [...]}` shape.
//!
//! Integers are accepted in pydantic's lax mode (JSON integers, integral floats, decimal strings);
//! strings must be JSON strings; optional fields may be absent or `null`. Every error is
//! collected, as pydantic reports all of them at once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// A 422 answer: FastAPI's `{"detail": [{"type", "loc", "msg", "input"}, …]}`.
#[derive(Debug)]
pub struct Invalid(pub Vec<Value>);

impl IntoResponse for Invalid {
    fn into_response(self) -> Response {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({ "detail": self.0 })),
        )
            .into_response()
    }
}

fn problem(kind: &str, loc: Value, msg: &str, input: Value) -> Value {
    json!({ "type": kind, "loc": loc, "msg": msg, "input": input })
}

/// The fields of one JSON object (a body or a query string), read one by one.
#[derive(Debug)]
pub struct Fields {
    place: &'static str,
    object: Map<String, Value>,
    errors: Vec<Value>,
}

impl Fields {
    /// Parses a request body that must be a JSON object (an empty body is a missing body).
    pub fn body(bytes: &[u8]) -> Result<Fields, Invalid> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Invalid(vec![problem(
                "missing",
                json!(["body"]),
                "Field required",
                Value::Null,
            )]));
        }
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(value) => value,
            Err(error) => {
                return Err(Invalid(vec![json!({
                    "type": "json_invalid",
                    "loc": ["body", error.column()],
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": { "error": error.to_string() },
                })]));
            }
        };
        match value {
            Value::Object(object) => Ok(Fields {
                place: "body",
                object,
                errors: Vec::new(),
            }),
            other => Err(Invalid(vec![problem(
                "model_attributes_type",
                json!(["body"]),
                "Input should be a valid dictionary or object to extract fields from",
                other,
            )])),
        }
    }

    /// Parses a query string (`a=1&b=x`); later duplicates win, as in Starlette.
    pub fn query(raw: Option<&str>) -> Result<Fields, Invalid> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
                Invalid(vec![problem(
                    "query_invalid",
                    json!(["query"]),
                    &e.to_string(),
                    Value::Null,
                )])
            })?;
        let object = pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Ok(Fields {
            place: "query",
            object,
            errors: Vec::new(),
        })
    }

    fn loc(&self, name: &str) -> Value {
        json!([self.place, name])
    }

    fn int_of(&mut self, name: &str, value: &Value) -> Option<i64> {
        let parsed = match value {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i64)
            }),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        if parsed.is_none() {
            let (kind, msg) = match value {
                Value::String(_) => (
                    "int_parsing",
                    "Input should be a valid integer, unable to parse string as an integer",
                ),
                Value::Number(_) => (
                    "int_from_float",
                    "Input should be a valid integer, got a number with a fractional part",
                ),
                _ => ("int_type", "Input should be a valid integer"),
            };
            let loc = self.loc(name);
            self.errors.push(problem(kind, loc, msg, value.clone()));
        }
        parsed
    }

    fn missing(&mut self, name: &str) {
        let loc = self.loc(name);
        let input = if self.place == "body" {
            Value::Object(self.object.clone())
        } else {
            Value::Null
        };
        self.errors
            .push(problem("missing", loc, "Field required", input));
    }

    fn not_a_string(&mut self, name: &str, value: Value) {
        let loc = self.loc(name);
        self.errors.push(problem(
            "string_type",
            loc,
            "Input should be a valid string",
            value,
        ));
    }

    /// A required integer field (0 when invalid; [`Fields::finish`] then fails).
    pub fn int(&mut self, name: &str) -> i64 {
        match self.object.get(name).cloned() {
            Some(value) => self.int_of(name, &value).unwrap_or(0),
            None => {
                self.missing(name);
                0
            }
        }
    }

    /// An optional integer field (`null` or absent is `None`).
    pub fn opt_int(&mut self, name: &str) -> Option<i64> {
        match self.object.get(name).cloned() {
            None | Some(Value::Null) => None,
            Some(value) => self.int_of(name, &value),
        }
    }

    /// A required string field.
    pub fn string(&mut self, name: &str) -> String {
        match self.object.get(name).cloned() {
            Some(Value::String(s)) => s,
            Some(other) => {
                self.not_a_string(name, other);
                String::new()
            }
            None => {
                self.missing(name);
                String::new()
            }
        }
    }

    /// An optional string field.
    pub fn opt_string(&mut self, name: &str) -> Option<String> {
        match self.object.get(name).cloned() {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.not_a_string(name, other);
                None
            }
        }
    }

    /// `Ok` when every field read so far was valid.
    pub fn finish(self) -> Result<(), Invalid> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lax_integers_and_strict_strings() {
        let mut f = Fields::body(br#"{"id": "7", "n": 3.0, "action": "go"}"#).unwrap();
        assert_eq!(
            (f.int("id"), f.int("n"), f.string("action")),
            (7, 3, "go".into())
        );
        assert!(f.finish().is_ok());
        let mut f = Fields::body(br#"{"id": 1.5, "action": 3}"#).unwrap();
        f.int("id");
        f.string("action");
        f.int("missing");
        let Invalid(errors) = f.finish().unwrap_err();
        let kinds: Vec<&str> = errors.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["int_from_float", "string_type", "missing"]);
        assert_eq!(errors[2]["loc"], json!(["body", "missing"]));
    }

    #[test]
    fn bodies_that_are_not_objects_are_rejected() {
        for bad in [&b""[..], b"  ", b"{", b"[1]", b"null", b"\xff"] {
            assert!(Fields::body(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn query_strings() {
        let mut f = Fields::query(Some("id=4&x=%20y")).unwrap();
        assert_eq!(f.int("id"), 4);
        assert_eq!(f.opt_string("x").as_deref(), Some(" y"));
        assert!(f.finish().is_ok());
        let mut f = Fields::query(None).unwrap();
        f.int("id");
        let Invalid(errors) = f.finish().unwrap_err();
        assert_eq!(errors[0]["loc"], json!(["query", "id"]));
    }
}

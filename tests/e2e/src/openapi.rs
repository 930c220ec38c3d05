//! Checking real traffic against the OpenAPI documents in `terminal-service/openapi/`.
//!
//! OpenAPI 3.1 schemas are JSON Schema 2020-12, so a schema inside the document is validated
//! by pointing a validator's root `$ref` at it: references between components resolve inside
//! the same document, and the OpenAPI-only keys around them are ignored as unknown keywords.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

/// A loaded OpenAPI document.
pub struct ApiDocument {
    doc: Value,
    name: String,
}

/// `s` escaped as one token of a JSON pointer (RFC 6901).
pub fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

impl ApiDocument {
    /// Loads `terminal-service/openapi/<file>` from the workspace.
    pub fn load(file: &str) -> Result<ApiDocument> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../terminal-service/openapi").join(file);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let doc: Value = serde_norway::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(ApiDocument { doc, name: file.into() })
    }

    fn operation_pointer(&self, method: &str, path: &str) -> Result<String> {
        let paths = self.doc.get("paths").and_then(Value::as_object).ok_or_else(|| anyhow!("{}: no paths", self.name))?;
        let path = path.split('?').next().unwrap_or(path);
        let template = paths
            .keys()
            .find(|t| {
                let (a, b): (Vec<&str>, Vec<&str>) = (t.split('/').collect(), path.split('/').collect());
                a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y || (x.starts_with('{') && x.ends_with('}')))
            })
            .ok_or_else(|| anyhow!("{}: no path matches {path}", self.name))?;
        let method = method.to_ascii_lowercase();
        if self.doc["paths"][template].get(&method).is_none() {
            bail!("{}: {path} has no {method} operation", self.name);
        }
        Ok(format!("/paths/{}/{method}", pointer_escape(template)))
    }

    /// The document as JSON, for tests that walk it.
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// Validates `instance` against the schema at `pointer` (a JSON pointer into the document),
    /// formats (`date`, `date-time`, `uuid`…) included: for the document's own examples, which
    /// should be exact.
    pub fn validate_schema(&self, pointer: &str, instance: &Value, what: &str) -> Result<()> {
        self.validate_with(pointer, instance, what, true)
    }

    fn validate_at(&self, pointer: &str, instance: &Value, what: &str) -> Result<()> {
        self.validate_with(pointer, instance, what, false)
    }

    fn validate_with(&self, pointer: &str, instance: &Value, what: &str, formats: bool) -> Result<()> {
        if self.doc.pointer(pointer).is_none() {
            bail!("{}: {what}: no schema at {pointer}", self.name);
        }
        let mut root = self.doc.clone();
        root["$ref"] = Value::String(format!("#{pointer}"));
        let validator = if formats {
            jsonschema::draft202012::options().should_validate_formats(true).build(&root)
        } else {
            jsonschema::validator_for(&root)
        }
        .map_err(|e| anyhow!("{}: schema at {pointer} does not compile: {e}", self.name))?;
        let errors: Vec<String> = validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).take(5).collect();
        if !errors.is_empty() {
            bail!("{}: {what} does not match its schema: {}\ninstance: {}", self.name, errors.join("; "), instance);
        }
        Ok(())
    }

    /// Validates a JSON request body of `method path`.
    pub fn validate_request(&self, method: &str, path: &str, body: &Value) -> Result<()> {
        let op = self.operation_pointer(method, path)?;
        let pointer = format!("{op}/requestBody/content/application~1json/schema");
        self.validate_at(&pointer, body, &format!("request body of {method} {path}"))
    }

    /// Validates a JSON response body of `method path` with `status`.
    pub fn validate_response(&self, method: &str, path: &str, status: u16, body: &Value) -> Result<()> {
        let op = self.operation_pointer(method, path)?;
        let responses = self.doc.pointer(&format!("{op}/responses")).and_then(Value::as_object).ok_or_else(|| anyhow!("{}: {method} {path} lists no responses", self.name))?;
        let key = [status.to_string(), format!("{}XX", status / 100), "default".to_string()]
            .into_iter()
            .find(|k| responses.contains_key(k))
            .ok_or_else(|| anyhow!("{}: {method} {path} does not document status {status}", self.name))?;
        let mut pointer = format!("{op}/responses/{key}");
        // Responses may be shared components.
        if let Some(r) = self.doc.pointer(&pointer).and_then(|v| v.get("$ref")).and_then(Value::as_str) {
            pointer = r.trim_start_matches('#').to_string();
        }
        let pointer = format!("{pointer}/content/application~1json/schema");
        self.validate_at(&pointer, body, &format!("{status} answer of {method} {path}"))
    }
}

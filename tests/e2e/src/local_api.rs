//! A client of the terminal's local API (HTTP/JSON over its Unix socket), as the kiosk uses it.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use node_protocol::{FormDefinition, MasterData, SubmissionKind};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// Client bound to one socket.
#[derive(Clone)]
pub struct LocalApi {
    http: reqwest::Client,
}

/// What `POST /v1/applications` answers once the submission is durable.
#[derive(Debug, Clone, Deserialize)]
pub struct Acknowledged {
    /// Submission id.
    pub id: Uuid,
    /// Short reference for the receipt.
    pub reference: String,
}

/// Forms and master data as the local API serves them.
#[derive(Debug, Clone, Deserialize)]
pub struct Forms {
    /// Form definitions.
    pub forms: Vec<FormDefinition>,
    /// Governorates and districts.
    pub master_data: MasterData,
}

impl Forms {
    /// The form for `kind`.
    pub fn form(&self, kind: SubmissionKind) -> Result<&FormDefinition> {
        self.forms.iter().find(|f| f.kind == kind).with_context(|| format!("no {} form served", kind.as_str()))
    }
}

impl LocalApi {
    /// A client for the API at `socket`.
    pub fn new(socket: &Path) -> Result<LocalApi> {
        let http = reqwest::Client::builder()
            .unix_socket(socket)
            .timeout(Duration::from_secs(30))
            .build()
            .context("building the local API client")?;
        Ok(LocalApi { http })
    }

    fn url(path: &str) -> String {
        format!("http://localhost{path}")
    }

    /// `GET path` → JSON, failing on a non-2xx status.
    pub async fn get_json(&self, path: &str) -> Result<Value> {
        let resp = self.http.get(Self::url(path)).send().await?;
        let status = resp.status();
        let body = resp.text().await?;
        if !status.is_success() {
            bail!("GET {path}: {status}: {body}");
        }
        serde_json::from_str(&body).with_context(|| format!("GET {path}: not JSON: {body}"))
    }

    /// `GET /v1/health`.
    pub async fn health(&self) -> Result<Value> {
        self.get_json("/v1/health").await
    }

    /// `GET /v1/queue`.
    pub async fn queue(&self) -> Result<Value> {
        self.get_json("/v1/queue").await
    }

    /// `GET /v1/forms`.
    pub async fn forms(&self) -> Result<Forms> {
        serde_json::from_value(self.get_json("/v1/forms").await?).context("decoding /v1/forms")
    }

    /// Submits an application or grievance. `Ok(Ok(ack))` when acknowledged, `Ok(Err((status,
    /// body)))` when refused with an HTTP answer, `Err` when no answer came (connection lost).
    pub async fn submit(&self, kind: SubmissionKind, language: &str, answers: &Value) -> Result<Result<Acknowledged, (u16, String)>> {
        let path = match kind {
            SubmissionKind::Application => "/v1/applications",
            SubmissionKind::Grievance => "/v1/grievances",
        };
        let body = serde_json::json!({ "language": language, "answers": answers });
        let resp = self.http.post(Self::url(path)).json(&body).send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        if status.as_u16() == 201 || status.as_u16() == 200 {
            Ok(Ok(serde_json::from_str(&text).with_context(|| format!("decoding the acknowledgement: {text}"))?))
        } else {
            Ok(Err((status.as_u16(), text)))
        }
    }

    /// Sends raw bytes: for malformed-input tests. Returns status and body.
    pub async fn raw(&self, method: &str, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Result<(u16, String)> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut req = self.http.request(method, Self::url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await?;
        Ok((resp.status().as_u16(), resp.text().await?))
    }

    /// Queue depth according to `GET /v1/queue`.
    pub async fn queue_depth(&self) -> Result<u64> {
        let q = self.queue().await?;
        q.pointer("/stats/depth").and_then(Value::as_u64).with_context(|| format!("no stats.depth in {q}"))
    }
}

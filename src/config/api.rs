//! `[api]` and `[serve] api`: the HTTP API's switch and limits, resolved
//! with their origins like every other setting (flag > file > default).

use serde::{Deserialize, Serialize};

use super::{ConfigError, FlagValues, Origin, Origins, in_range};

/// `[api]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ApiSection {
    /// Largest upload of one request, in bytes (413 past it).
    pub upload_limit: Option<u64>,
    /// Requests one token may make per minute (429 past it); 0: no limit.
    pub rate_limit: Option<u64>,
}

/// The API's resolved settings.
#[derive(Clone, Debug, Serialize)]
pub struct ApiSettings {
    /// `serve` answers the API under `/api/`.
    pub enabled: bool,
    /// Largest upload of one request, in bytes.
    pub upload_limit: u64,
    /// Requests per minute per token; 0: no limit.
    pub rate_limit: u64,
}

/// Resolves `serve --api` / `[serve] api` and `[api]`.
pub(super) fn resolve_api(
    flags: &FlagValues,
    serve_api: Option<bool>,
    file: &ApiSection,
    file_origin: &dyn Fn() -> Origin,
    origins: &mut Origins,
) -> Result<ApiSettings, ConfigError> {
    let (enabled, origin) = match (flags.api, serve_api) {
        (true, _) => (true, Origin::Flag("--api".to_owned())),
        (false, Some(v)) => (v, file_origin()),
        (false, None) => (false, Origin::Default),
    };
    origins.insert("serve.api", origin);
    let mut num = |key: &'static str, v: Option<u64>, default: u64, max: u64, expected| {
        origins.insert(key, v.map_or(Origin::Default, |_| file_origin()));
        let v = v.unwrap_or(default);
        in_range(origins, key, v, 0..=max, expected).map(|()| v)
    };
    let upload_limit = num(
        "api.upload-limit",
        file.upload_limit,
        crate::serve::api::DEFAULT_UPLOAD_LIMIT,
        1 << 50,
        "between 0 and 2^50 bytes",
    )?;
    let rate_limit = num(
        "api.rate-limit",
        file.rate_limit,
        crate::serve::api::DEFAULT_RATE_LIMIT,
        1_000_000,
        "between 0 (no limit) and 1000000 requests a minute",
    )?;
    Ok(ApiSettings {
        enabled,
        upload_limit,
        rate_limit,
    })
}

/// `config show` rows.
pub(super) fn api_rows(
    api: &ApiSettings,
    origin: &dyn Fn(&str) -> Origin,
) -> Vec<(&'static str, String, Origin)> {
    vec![
        ("serve.api", api.enabled.to_string(), origin("serve.api")),
        (
            "api.upload-limit",
            api.upload_limit.to_string(),
            origin("api.upload-limit"),
        ),
        (
            "api.rate-limit",
            api.rate_limit.to_string(),
            origin("api.rate-limit"),
        ),
    ]
}

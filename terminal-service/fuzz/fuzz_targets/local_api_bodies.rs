//! A local API request body, as the kiosk (or any process that reaches the socket) sends it, read
//! by the service's own extractor (`api::error::JsonBody`, the one every handler uses): the first
//! byte picks the request type, the rest is the body. Reading gives the value or an `ApiError`
//! with a 4xx status and a message, never a panic; what is accepted serialises and reads back to
//! the same value (the kiosk writes these with the same types).
#![no_main]

use axum::body::Body;
use axum::extract::FromRequest;
use axum::http::Request;
use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use terminal_service::api::error::JsonBody;

fn read<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(body: &[u8]) {
    let request = Request::post("/v1/x").header("content-type", "application/json").body(Body::from(body.to_vec())).expect("a request");
    // The body is all in memory: the extractor never waits.
    let Some(read) = JsonBody::<T>::from_request(request, &()).now_or_never() else {
        panic!("reading an in-memory body waited");
    };
    match read {
        Ok(JsonBody(value)) => {
            let again: T = serde_json::from_slice(&serde_json::to_vec(&value).expect("an accepted body serialises")).expect("a serialised body reads back");
            assert_eq!(again, value);
        }
        Err(error) => {
            assert!(error.status.is_client_error(), "{} for a bad body", error.status);
            assert!(!error.body.message.is_empty(), "a refusal says what was wrong");
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    match which % 8 {
        0 => read::<local_api::CaptureRequest>(body),
        1 => read::<local_api::Login>(body),
        2 => read::<local_api::StatusRequest>(body),
        3 => read::<local_api::ProvisionRequest>(body),
        4 => read::<local_api::PrecheckRequest>(body),
        5 => read::<local_api::PrintReceipt>(body),
        6 => read::<local_api::PresentCard>(body),
        _ => read::<local_api::PrinterDrill>(body),
    }
});

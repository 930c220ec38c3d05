//! `GET /v1/events`: server-sent events (queue, connectivity, submission, card, printer,
//! session).
//!
//! A new stream starts with the current `connectivity`, `printer` and `queue`, so the kiosk needs no
//! second request to know where things stand. Keep-alive comments every 15 s keep idle
//! connections open through anything that times them out. Each stream ends when the service
//! shuts down, so a connected kiosk never holds up a graceful stop.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::ApiState;
use crate::events::{Event, PrinterEvent};

fn to_sse(event: &Event) -> SseEvent {
    SseEvent::default().event(event.name()).json_data(event).unwrap_or_else(|_| SseEvent::default().comment("unserialisable event"))
}

/// The next SSE item: an event, a note that some were missed, or `None` when the channel closed.
async fn next_event(receiver: &mut tokio::sync::broadcast::Receiver<Event>) -> Option<SseEvent> {
    match receiver.recv().await {
        Ok(event) => Some(to_sse(&event)),
        Err(RecvError::Lagged(missed)) => Some(SseEvent::default().comment(format!("missed {missed} events"))),
        Err(RecvError::Closed) => None,
    }
}

/// `GET /v1/events`.
pub async fn get(State(state): State<ApiState>) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let terminal = state.terminal.clone();
    // Subscribe before reading the current state, so nothing published in between is missed.
    let receiver = terminal.events.subscribe();
    let mut initial = vec![Event::Connectivity(terminal.connectivity()), Event::Printer(PrinterEvent { state: terminal.devices.printer_state() })];
    if let Ok(stats) = terminal.storage.outbox(|o| o.stats()).await {
        initial.push(Event::queue(&stats));
    }
    let live = stream::unfold((receiver, state.shutdown.clone()), |(mut receiver, mut shutdown)| async move {
        let next = tokio::select! {
            received = next_event(&mut receiver) => received,
            _ = shutdown.wait_for(|s| *s) => None,
        };
        next.map(|event| (Ok(event), (receiver, shutdown)))
    });
    let first = stream::iter(initial.into_iter().map(|e| Ok(to_sse(&e))));
    Sse::new(first.chain(live)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)).text("keep-alive"))
}

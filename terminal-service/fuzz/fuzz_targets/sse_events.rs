//! The local API's event stream as the kiosk reads it (`kiosk::api::read_events`: the bytes split
//! into events by eventsource-stream, each read with `local_api::Event::parse`), with the
//! fuzzer's bytes arriving in fuzzer-chosen chunks. An odd event is an error the kiosk skips,
//! never a panic; an event that parses serialises back (`name()` and its JSON, as the service
//! sends it) to the same event.
#![no_main]

use eventsource_stream::Eventsource;
use futures_util::{FutureExt, StreamExt};
use local_api::Event;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (sizes, stream) = data.split_at(data.len().min(4));
    let mut chunks = Vec::new();
    let mut rest = stream;
    for &size in sizes.iter().cycle().take(32) {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(usize::from(size).clamp(1, rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    if !rest.is_empty() {
        chunks.push(rest);
    }
    let bytes = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::convert::Infallible>));
    let mut events = std::pin::pin!(bytes.eventsource());
    // Every chunk is in memory: the stream never waits.
    while let Some(next) = events.next().now_or_never().expect("an in-memory stream never waits") {
        let Ok(sse) = next else { continue };
        if let Ok(event) = Event::parse(&sse.event, &sse.data) {
            let data = serde_json::to_string(&event).expect("an event serialises");
            assert_eq!(Event::parse(event.name(), &data).expect("a serialised event reads back"), event);
        }
    }
});

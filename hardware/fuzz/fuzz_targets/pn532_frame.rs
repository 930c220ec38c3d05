//! Frames read from the PN532: decoding must give a frame or an error, never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(hardware::pn532::frame::Decoded::Information(tfi, payload)) = hardware::pn532::frame::decode(data) {
        // What decodes must re-encode to a frame that decodes the same.
        let again = hardware::pn532::frame::encode(tfi, &payload);
        assert_eq!(
            hardware::pn532::frame::decode(&again),
            Ok(hardware::pn532::frame::Decoded::Information(tfi, payload))
        );
    }
});

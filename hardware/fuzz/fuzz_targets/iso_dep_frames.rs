//! Frames from a contactless card (ISO/IEC 14443-4 blocks, the ATS): parsing must give a value
//! or an error, never panic, and a parsed block must re-encode to the same frame.
#![no_main]

use hardware::iso_dep::{Ats, Block};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(block) = Block::parse(data) {
        assert_eq!(Block::parse(&block.encode()), Some(block));
    }
    let _ = Ats::parse(data);
});

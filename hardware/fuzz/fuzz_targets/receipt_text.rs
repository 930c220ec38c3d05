//! Receipt text from the fuzzer (what a form or the node might put on a receipt): it must
//! render to a page as wide as the paper, or give a clear error.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let receipt = hardware::Receipt {
        language: hardware::Language::Kurdish,
        kind: hardware::ReceiptKind::Application,
        reference: parts.next().unwrap_or_default().into(),
        submission_id: None,
        issued_at: String::new(),
        terminal: String::new(),
        lines: vec![hardware::ReceiptLine { label: String::new(), value: parts.next().unwrap_or_default().into() }],
        qr: parts.next().map(Into::into),
    };
    if let Ok(page) = hardware::render_receipt(&receipt, hardware::PaperWidth::Mm58) {
        assert_eq!(page.width(), 384);
    }
});

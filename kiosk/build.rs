//! Compiles the `.slint` screens, with the Arabic and Kurdish translations
//! (`translations/<lang>/LC_MESSAGES/kiosk.po`) bundled into the binary.
fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations(concat!(env!("CARGO_MANIFEST_DIR"), "/translations"))
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        // Element ids for the testing backend's lookups in the flow tests.
        .with_debug_info(true);
    slint_build::compile_with_config("ui/app.slint", config).expect("the .slint UI compiles");
    println!("cargo:rerun-if-changed=translations");
}

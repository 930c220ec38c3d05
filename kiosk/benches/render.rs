//! Render budget: how long Slint's software renderer — the renderer the kiosk uses on the
//! terminal (linuxkms, no GPU) — takes to draw each main screen, in full and for a typical
//! partial update (one key of the on-screen keyboard or PIN pad), at 1280×800 and 800×480.
//!
//! The machines that run this are shared and noisy, so every figure is printed as a ratio to
//! a baseline measured in the same run: a bare window of the same size (the kiosk's background
//! colour, nothing else), rendered the same way. A frame of a screen that costs N bare frames
//! here costs about N bare frames on the terminal too; what a bare frame costs on a Raspberry
//! Pi 4 is stated in `kiosk/BENCHMARKS.md` with how it was estimated.
//!
//! `cargo bench -p kiosk --bench render` (`-- --quick` for CI's short form).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use kiosk::ui::{AppWindow, BareWindow, BenefitState, FieldKind, FieldView, FormKind, KeyboardKind, PrintJob, ReviewLine, Screen, StatusMode, StatusResult, Theme};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType, Rgb565Pixel};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, Global, ModelRc, PhysicalSize, SharedString, VecModel};

/// The window the next component gets: full-frame or reused-buffer rendering.
type NextWindow = Rc<RefCell<Option<Rc<MinimalSoftwareWindow>>>>;

/// Hands each new component the window prepared for it.
struct BenchPlatform(NextWindow);

impl Platform for BenchPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        let window = self.0.borrow_mut().take().ok_or_else(|| slint::PlatformError::Other("no window prepared".into()))?;
        Ok(window)
    }
}

/// A window of `width`×`height` that the next component created will get.
fn prepare(next: &NextWindow, repaint: RepaintBufferType, width: u32, height: u32) -> Rc<MinimalSoftwareWindow> {
    let window = MinimalSoftwareWindow::new(repaint);
    window.set_size(PhysicalSize::new(width, height));
    *next.borrow_mut() = Some(window.clone());
    window
}

/// One frame drawn into `buffer`; returns the time the renderer took.
fn frame(window: &MinimalSoftwareWindow, buffer: &mut [Rgb565Pixel], width: usize) -> Duration {
    slint::platform::update_timers_and_animations();
    let start = Instant::now();
    window.draw_if_needed(|renderer| {
        renderer.render(buffer, width);
    });
    start.elapsed()
}

/// Median of `runs` frames, each after `before` has changed what is on screen.
fn median(runs: usize, mut one: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| one()).collect();
    times.sort();
    times[times.len() / 2]
}

/// What a screen shows, set through the window's properties as the kiosk's flow sets them.
struct Scene {
    name: &'static str,
    setup: fn(&AppWindow),
    /// A typical small change on that screen (a key pressed), for the partial-update figure.
    key_press: Option<fn(&AppWindow, usize)>,
}

fn s(text: &str) -> SharedString {
    SharedString::from(text)
}

fn scenes() -> Vec<Scene> {
    vec![
        Scene { name: "language", setup: |ui| ui.set_screen(Screen::Language), key_press: None },
        Scene { name: "home", setup: |ui| ui.set_screen(Screen::Home), key_press: None },
        Scene {
            name: "status (reference + keyboard)",
            setup: |ui| {
                ui.set_screen(Screen::Status);
                ui.set_status_mode(StatusMode::Reference);
                ui.set_status_reference(s("7K2Q"));
                ui.set_status_dob_set(true);
                ui.set_status_dob_day(14);
                ui.set_status_dob_month(3);
                ui.set_status_dob_year(1985);
            },
            key_press: Some(|ui, i| ui.set_status_reference(s(["7K2QX", "7K2Q"][i % 2]))),
        },
        Scene {
            name: "status (result)",
            setup: |ui| {
                ui.set_screen(Screen::Status);
                ui.set_status_mode(StatusMode::Result);
                ui.set_status_result(StatusResult {
                    state: BenefitState::Active,
                    message: s("مستحق؛ الدفعة القادمة في موعدها"),
                    case_number: s("BGD-2025-004512"),
                    updated_on: s("01/09/2025"),
                    next_payment_on: s("01/12/2026"),
                });
            },
            key_press: None,
        },
        Scene {
            name: "form (text field + keyboard)",
            setup: |ui| {
                ui.set_screen(Screen::Form);
                ui.set_form_title(s("طلب إعانة"));
                ui.set_form_step_title(s("مقدم الطلب"));
                ui.set_form_step(1);
                ui.set_form_step_count(4);
                let field = |id: &str, label: &str, value: &str| FieldView {
                    id: s(id),
                    label: s(label),
                    kind: FieldKind::Text,
                    keyboard: KeyboardKind::Arabic,
                    value: s(value),
                    required: true,
                    ..FieldView::default()
                };
                let fields = vec![
                    field("first_name", "الاسم الأول", "فاطمة"),
                    field("father_name", "اسم الأب", "علي"),
                    field("grandfather_name", "اسم الجد", "حسين"),
                    field("family_name", "اللقب", ""),
                ];
                ui.set_form_fields(ModelRc::new(VecModel::from(fields)));
                ui.set_form_active_field(0);
                ui.set_form_keyboard(KeyboardKind::Arabic);
            },
            key_press: Some(|ui, i| {
                let fields = ui.get_form_fields();
                if let Some(mut f) = slint::Model::row_data(&fields, 0) {
                    f.value = s(["فاطمة", "فاطم"][i % 2]);
                    slint::Model::set_row_data(&fields, 0, f);
                }
            }),
        },
        Scene {
            name: "review",
            setup: |ui| {
                ui.set_screen(Screen::Review);
                let line = |label: &str, value: &str, heading| ReviewLine { step: 1, label: s(label), value: s(value), heading };
                let lines = vec![
                    line("", "مقدم الطلب", true),
                    line("الاسم الأول", "فاطمة", false),
                    line("اسم الأب", "علي", false),
                    line("اسم الجد", "حسين", false),
                    line("اللقب", "الربيعي", false),
                    line("تاريخ الميلاد", "14/03/1985", false),
                    line("رقم الهاتف", "07701234567", false),
                    line("المحافظة", "بغداد", false),
                ];
                ui.set_review_lines(ModelRc::new(VecModel::from(lines)));
            },
            key_press: None,
        },
        Scene {
            name: "receipt",
            setup: |ui| {
                ui.set_screen(Screen::Receipt);
                ui.set_receipt_kind(FormKind::Application);
                ui.set_receipt_reference(s("7K2QX-M4B9R"));
                ui.set_receipt_print(PrintJob::Printed);
            },
            key_press: None,
        },
        Scene {
            name: "staff login (PIN pad)",
            setup: |ui| {
                ui.set_screen(Screen::StaffLogin);
                ui.set_login_pin(s("24"));
            },
            key_press: Some(|ui, i| ui.set_login_pin(s(["246", "24"][i % 2]))),
        },
    ]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 5 } else { 41 };
    kiosk::fonts::use_shipped_fallbacks();
    let next: NextWindow = Rc::default();
    if let Err(e) = slint::platform::set_platform(Box::new(BenchPlatform(next.clone()))) {
        eprintln!("render bench: cannot install the benchmark platform: {e}");
        std::process::exit(1);
    }

    println!("Slint software renderer, RGB565, median of {runs} frames; ratios to a bare window of the same size in this run");
    for (width, height) in [(1280u32, 800u32), (800, 480)] {
        let pixels = (width * height) as usize;
        let mut buffer = vec![Rgb565Pixel::default(); pixels];

        // Baseline: the bare window, whole frame.
        let window = prepare(&next, RepaintBufferType::NewBuffer, width, height);
        let bare = BareWindow::new().expect("the bare window is created");
        bare.show().expect("the bare window is shown");
        let bare_full = median(runs, || {
            window.request_redraw();
            frame(&window, &mut buffer, width as usize)
        });
        drop(bare);
        println!("\n{width}×{height}: bare window {:.2} ms per full frame", ms(bare_full));
        println!("{:<34} {:>10} {:>8} {:>12} {:>8}", "screen", "full ms", "× bare", "key ms", "× bare");

        for language in ["ar", "ckb", "en"] {
            if let Err(e) = slint::select_bundled_translation(language) {
                eprintln!("render bench: no translation for {language}: {e}");
            }
            for scene in scenes() {
                // Full frames: a new buffer each time, everything drawn.
                let window = prepare(&next, RepaintBufferType::NewBuffer, width, height);
                let ui = AppWindow::new().expect("the kiosk window is created");
                Theme::get(&ui).set_rtl(language != "en");
                ui.set_language(s(language));
                (scene.setup)(&ui);
                ui.show().expect("the kiosk window is shown");
                let full = median(runs, || {
                    window.request_redraw();
                    frame(&window, &mut buffer, width as usize)
                });
                drop(ui);

                // Partial: the buffer is kept and only what changed is drawn again.
                let key = scene.key_press.map(|press| {
                    let window = prepare(&next, RepaintBufferType::ReusedBuffer, width, height);
                    let ui = AppWindow::new().expect("the kiosk window is created");
                    Theme::get(&ui).set_rtl(language != "en");
                    ui.set_language(s(language));
                    (scene.setup)(&ui);
                    ui.show().expect("the kiosk window is shown");
                    frame(&window, &mut buffer, width as usize);
                    let mut i = 0;
                    median(runs, || {
                        press(&ui, i);
                        i += 1;
                        frame(&window, &mut buffer, width as usize)
                    })
                });
                let key_cols = match key {
                    Some(k) => format!("{:>12.2} {:>8.2}", ms(k), ratio(k, bare_full)),
                    None => format!("{:>12} {:>8}", "-", "-"),
                };
                println!("{:<34} {:>10.2} {:>8.2} {key_cols}", format!("{language} {}", scene.name), ms(full), ratio(full, bare_full));
            }
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(d: Duration, base: Duration) -> f64 {
    d.as_secs_f64() / base.as_secs_f64().max(1e-9)
}

//! Hardware tests for technicians: read a card, print a test page, ask the printer's state.

use std::rc::Rc;

use slint::ComponentHandle;

use super::{printer_state, shared, Kiosk, State};
use crate::ui::{AppWindow, HardwareActions, HardwareTest, PrinterState, Screen};

pub(super) fn connect(ui: &AppWindow, kiosk: &Rc<Kiosk>) {
    let actions = ui.global::<HardwareActions>();
    on!(kiosk, actions, on_read_card, |k| k.hw_read_card());
    on!(kiosk, actions, on_print_test, |k| k.hw_print_test());
    on!(kiosk, actions, on_printer_status, |k| k.hw_printer_status());
    on!(kiosk, actions, on_back, |k| k.state.borrow_mut().screen = Screen::Technician);
}

impl Kiosk {
    fn hw_read_card(self: &Rc<Self>) {
        {
            let mut s = self.state.borrow_mut();
            s.hw_card_state = HardwareTest::Busy;
            s.hw_busy = true;
            s.hw_detail.clear();
        }
        let api = self.api.clone();
        self.call(async move { api.hardware_read_card().await }, |k, r| {
            let mut s = k.state.borrow_mut();
            s.hw_busy = false;
            match r {
                Ok(v) => {
                    s.hw_card_state = HardwareTest::Ok;
                    s.hw_card_id = v.uid;
                }
                Err(e) if e.code() == "no_card" => s.hw_card_state = HardwareTest::NoCard,
                Err(e) => {
                    s.hw_card_state = HardwareTest::Error;
                    s.hw_detail = e.message();
                }
            }
        });
    }

    fn hw_print_test(self: &Rc<Self>) {
        {
            let mut s = self.state.borrow_mut();
            s.hw_print_state = HardwareTest::Busy;
            s.hw_busy = true;
            s.hw_detail.clear();
        }
        let api = self.api.clone();
        self.call(async move { api.hardware_print_test().await }, |k, r| {
            let mut s = k.state.borrow_mut();
            s.hw_busy = false;
            match r {
                Ok(_) => s.hw_print_state = HardwareTest::Ok,
                Err(e) => {
                    s.hw_print_state = HardwareTest::Error;
                    s.hw_detail = e.message();
                }
            }
        });
    }

    /// Asks the printer for its state now; the status bar shows the answer too.
    fn hw_printer_status(self: &Rc<Self>) {
        self.state.borrow_mut().printer = PrinterState::Testing;
        let api = self.api.clone();
        self.call(async move { api.printer_status().await }, |k, r| {
            let mut s = k.state.borrow_mut();
            match r {
                Ok(state) => s.printer = printer_state(state),
                Err(e) => {
                    s.printer = PrinterState::Offline;
                    s.hw_detail = e.message();
                }
            }
        });
    }
}

pub(super) fn render(ui: &AppWindow, s: &State) {
    ui.set_hw_card_state(s.hw_card_state);
    ui.set_hw_card_id(shared(&s.hw_card_id));
    ui.set_hw_print_state(s.hw_print_state);
    ui.set_hw_printer_state(s.printer);
    ui.set_hw_detail(shared(&s.hw_detail));
    ui.set_hw_busy(s.hw_busy);
}

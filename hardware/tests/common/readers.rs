//! Both card-reader drivers on their simulators, for tests that must hold on each.

use hardware::mfrc522::{Mfrc522, SimulatedMfrc522};
use hardware::pn532::{NoDelay, Pn532, SimulatedPn532};
use hardware::{CardReader, SimulatedCard, SimulatedField};

/// The reader chips with a simulator.
pub const CHIPS: [&str; 2] = ["MFRC522", "PN532"];

/// The driver of `chip` on its simulator looking at `field`, initialised.
pub fn reader(chip: &str, field: &SimulatedField) -> Box<dyn CardReader> {
    match chip {
        "MFRC522" => {
            let mut reader = Mfrc522::new(SimulatedMfrc522::new(field.clone()));
            reader.init().unwrap();
            Box::new(reader)
        }
        _ => {
            let mut reader = Pn532::new(SimulatedPn532::new(field.clone()), NoDelay);
            reader.init().unwrap();
            Box::new(reader)
        }
    }
}

/// Puts `card` on each simulated reader, polls it, and runs `test`.
pub fn on_each_reader(card: &SimulatedCard, mut test: impl FnMut(&str, &mut dyn CardReader, &SimulatedField)) {
    for chip in CHIPS {
        let field = SimulatedField::new();
        field.present(card.clone());
        let mut reader = reader(chip, &field);
        assert!(reader.poll().unwrap().is_some(), "{chip}");
        test(chip, &mut *reader, &field);
    }
}

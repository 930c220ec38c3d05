//! Form definitions from the node's configuration, and answers checked against them as the
//! service checks every application (`capture::forms::validate`, patterns compiled from the
//! node's words included). The input is three JSON values one after the other: a form
//! definition, the master data, the answers. Whatever the node defines and whatever the kiosk
//! answers, checking gives Ok or a list of problems naming each field, never a panic.
#![no_main]

use node_protocol::{FormDefinition, MasterData};
use serde_json::{Map, Value};
use terminal_service::capture::forms;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut values = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
    let (Some(Ok(form)), Some(Ok(master)), Some(Ok(Value::Object(answers)))) = (values.next(), values.next(), values.next()) else {
        return;
    };
    let (Ok(form), Ok(master)) = (serde_json::from_value::<FormDefinition>(form), serde_json::from_value::<MasterData>(master)) else {
        return;
    };
    let answers: Map<String, Value> = answers;
    if let Err(problems) = forms::validate(&form, &master, &answers) {
        assert!(!problems.is_empty());
        for problem in &problems {
            assert!(!problem.message.is_empty(), "a problem says what is wrong");
        }
    }
    let _ = forms::national_id(&form, &answers);
});

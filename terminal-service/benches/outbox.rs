//! Outbox benchmark (being written).
fn main() {}

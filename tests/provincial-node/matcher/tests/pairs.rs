//! The pairs file of `provincial-node match --pairs FILE.tsv --json`.

use matcher::pairs::{score_pairs, PairsError};

const HEADER: &str = "name_a\tdob_a\tmother_a\tname_b\tdob_b\tmother_b\n";

fn run(body: &str) -> Result<Vec<serde_json::Value>, PairsError> {
    let mut out = Vec::new();
    let n = score_pairs(format!("{HEADER}{body}").as_bytes(), &mut out)?;
    let rows: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), n);
    Ok(rows)
}

#[test]
fn the_contract_pairs_are_duplicate_then_distinct() {
    let rows = run(concat!(
        "أحمد محمد علي حسين\t1985-03-12\tزينب كاظم\tاحمد محمد علي حسين\t1985-03-12\tزينب كاظم\n",
        "أحمد محمد علي حسين\t1985-03-12\tزينب كاظم\tسعاد جبار كريم ناصر\t1962-10-01\tهدى رضا\n",
    ))
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["decision"], "duplicate");
    assert_eq!(rows[1]["decision"], "distinct");
    for row in &rows {
        assert!(row["score"].is_f64());
        let explanation = row["explanation"].as_array().unwrap();
        assert_eq!(explanation.len(), 9);
        assert!(explanation.iter().all(|e| e["field"].is_string()
            && e["agreement"].is_string()
            && e["weight"].is_number()));
    }
}

#[test]
fn empty_dates_and_mothers_are_allowed() {
    let rows = run("علي حسن كاظم\t\t\tعلي حسن كاظم الجبوري\t1990-01-01\tفاطمة\n").unwrap();
    assert_eq!(rows.len(), 1);
}

#[test]
fn a_wrong_header_says_what_to_write() {
    let err = score_pairs("a\tb\n".as_bytes(), Vec::new()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("line 1") && text.contains("name_a\\tdob_a"),
        "{text}"
    );
    let err = score_pairs("".as_bytes(), Vec::new()).unwrap_err();
    assert!(matches!(err, PairsError::Header { .. }));
}

#[test]
fn a_short_line_names_its_line_and_the_columns() {
    let err = run("علي حسن كاظم\t1990-01-01\tفاطمة\n").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("line 2") && text.contains("found 3"),
        "{text}"
    );
}

#[test]
fn an_unreadable_date_names_its_line_and_column() {
    let err =
        run("علي حسن كاظم\t1990-01-01\tفاطمة\tعلي حسن كاظم\tnext tuesday\tفاطمة\n").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("line 2, column dob_b") && text.contains("next tuesday"),
        "{text}"
    );
}

#[test]
fn a_one_part_name_names_its_line_and_column() {
    let err = run("علي\t1990-01-01\tفاطمة\tعلي حسن كاظم\t1990-01-01\tفاطمة\n").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("line 2, column name_a") && text.contains("father"),
        "{text}"
    );
}

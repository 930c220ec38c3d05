//! The service directory: services beyond cash (health, education, employment, legal aid, …) a
//! household may be referred to, per governorate and district, in the three languages.
//!
//! A versioned node document: the operator edits it at the node (a JSON file), the node serves
//! it (`GET /v1/service-directory`, its version in every heartbeat answer), the terminal caches
//! it for offline use and shows the kiosk the services of a place (`GET /v1/services` on the
//! local API); a referral slip names a service by its [`Service::id`].
//!
//! [`ServiceDirectory::parse`] is what both sides read it with: JSON, then every rule of
//! [`ServiceDirectory::problems`], so a node refuses to serve what a terminal would refuse to
//! cache.

use serde::{Deserialize, Serialize};

use crate::{LocalizedText, MasterData};

/// Longest text of a directory entry, per language: it is printed on 58 mm paper.
pub const MAX_TEXT: usize = 240;

/// The whole directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDirectory {
    /// The operator's version string; terminals fetch the directory when it changes.
    pub version: String,
    /// The kinds of service, in the order the kiosk shows them.
    pub categories: Vec<ServiceCategory>,
    /// The services.
    pub services: Vec<Service>,
}

/// A kind of service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCategory {
    /// Stable id, lower-case letters and `_` (`health`, `legal_aid`).
    pub id: String,
    /// Its name in the three languages.
    pub name: LocalizedText,
}

/// One service a household may be referred to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Stable id, 1 to 16 characters of A-Z, 0-9 and `-` (`BGD-H-0001`): printed in the slip's QR.
    pub id: String,
    /// A [`ServiceCategory::id`].
    pub category: String,
    /// Governorate code of the master data (`BGD`).
    pub governorate: String,
    /// District code within the governorate; absent when it serves the whole governorate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Its name.
    pub name: LocalizedText,
    /// Who it is for, as a hint for the applicant and staff (the service decides).
    pub eligibility: LocalizedText,
    /// Where it is.
    pub address: LocalizedText,
    /// When it is open, as written for people (`Sunday to Thursday, 8:00 to 14:00`).
    pub hours: LocalizedText,
    /// Telephone, Western digits with `+`, spaces and `-` (shown in each language's digits).
    pub phone: String,
}

/// Why a directory document is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// Not JSON of a directory.
    #[error("not a service directory: {0}")]
    Json(String),
    /// JSON of a directory that breaks its rules; every problem, each naming its entry.
    #[error("the service directory has {} problem(s): {}", .0.len(), .0.join("; "))]
    Invalid(Vec<String>),
}

impl ServiceDirectory {
    /// Reads a directory and checks it against `master_data` (governorate and district codes;
    /// not checked when `None`).
    pub fn parse(bytes: &[u8], master_data: Option<&MasterData>) -> Result<ServiceDirectory, DirectoryError> {
        let directory: ServiceDirectory = serde_json::from_slice(bytes).map_err(|e| DirectoryError::Json(e.to_string()))?;
        let problems = directory.problems(master_data);
        if problems.is_empty() {
            Ok(directory)
        } else {
            Err(DirectoryError::Invalid(problems))
        }
    }

    /// Every rule the document breaks, each naming the entry and what to fix.
    pub fn problems(&self, master_data: Option<&MasterData>) -> Vec<String> {
        let mut problems = Vec::new();
        if self.version.trim().is_empty() || self.version.len() > 64 {
            problems.push("version: give the directory a version string of 1 to 64 characters".to_string());
        }
        let mut text = |at: String, t: &LocalizedText, required: bool| {
            for (language, value) in [("ar", &t.ar), ("ckb", &t.ckb), ("en", &t.en)] {
                if required && value.trim().is_empty() {
                    problems.push(format!("{at}.{language}: empty; write it in Arabic, Kurdish and English"));
                } else if value.chars().count() > MAX_TEXT {
                    problems.push(format!("{at}.{language}: longer than {MAX_TEXT} characters"));
                }
            }
        };
        for (i, category) in self.categories.iter().enumerate() {
            text(format!("categories[{i}].name"), &category.name, true);
        }
        for (i, service) in self.services.iter().enumerate() {
            let at = format!("services[{i}] ({})", service.id);
            text(format!("{at}.name"), &service.name, true);
            text(format!("{at}.eligibility"), &service.eligibility, false);
            text(format!("{at}.address"), &service.address, true);
            text(format!("{at}.hours"), &service.hours, true);
        }
        let mut categories = std::collections::BTreeSet::new();
        for (i, category) in self.categories.iter().enumerate() {
            if category.id.is_empty() || category.id.len() > 32 || !category.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                problems.push(format!("categories[{i}].id '{}': use 1 to 32 lower-case letters and '_' (e.g. legal_aid)", category.id));
            }
            if !categories.insert(category.id.as_str()) {
                problems.push(format!("categories[{i}].id '{}': listed twice", category.id));
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for (i, service) in self.services.iter().enumerate() {
            let at = format!("services[{i}] ({})", service.id);
            let id_ok = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-';
            if service.id.is_empty() || service.id.len() > crate::slip::MAX_ID_LEN || !service.id.bytes().all(id_ok) {
                problems.push(format!("{at}.id: use 1 to {} characters of A-Z, 0-9 and '-' (e.g. BGD-H-0001)", crate::slip::MAX_ID_LEN));
            }
            if !ids.insert(service.id.as_str()) {
                problems.push(format!("{at}.id: another service has this id; ids must be unique (slips name services by id)"));
            }
            if !categories.contains(service.category.as_str()) {
                problems.push(format!("{at}.category '{}': not one of the categories listed", service.category));
            }
            let phone_ok = |c: char| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-');
            let digits = service.phone.chars().filter(char::is_ascii_digit).count();
            if !service.phone.chars().all(phone_ok) || !(5..=15).contains(&digits) {
                problems.push(format!("{at}.phone '{}': 5 to 15 Western digits, with '+', spaces or '-' (e.g. +964 770 123 4567)", service.phone));
            }
            if let Some(master) = master_data {
                match master.governorates.iter().find(|g| g.code == service.governorate) {
                    None => problems.push(format!("{at}.governorate '{}': not a governorate code of the master data (e.g. BGD)", service.governorate)),
                    Some(g) => {
                        if let Some(district) = &service.district {
                            if !g.districts.iter().any(|d| &d.code == district) {
                                problems.push(format!("{at}.district '{district}': not a district of {}", g.code));
                            }
                        }
                    }
                }
            }
        }
        problems
    }

    /// The services of a place: those of `governorate` that serve the whole governorate or
    /// `district` (every district's when `district` is `None`), in the categories' order, then
    /// by id.
    pub fn serving(&self, governorate: &str, district: Option<&str>) -> Vec<&Service> {
        let rank = |s: &Service| self.categories.iter().position(|c| c.id == s.category).unwrap_or(usize::MAX);
        let mut services: Vec<&Service> = self
            .services
            .iter()
            .filter(|s| s.governorate == governorate)
            .filter(|s| match (district, &s.district) {
                (Some(wanted), Some(d)) => wanted == d,
                _ => true,
            })
            .collect();
        services.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.id.cmp(&b.id)));
        services
    }

    /// The service with `id`.
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{District, Governorate};

    fn t(en: &str) -> LocalizedText {
        LocalizedText::new(&format!("ع {en}"), &format!("ک {en}"), en)
    }

    fn service(id: &str, category: &str, district: Option<&str>) -> Service {
        Service {
            id: id.into(),
            category: category.into(),
            governorate: "BGD".into(),
            district: district.map(Into::into),
            name: t("Clinic"),
            eligibility: t("Everyone"),
            address: t("Street 1"),
            hours: t("8-14"),
            phone: "+964 770 123 4567".into(),
        }
    }

    fn directory() -> ServiceDirectory {
        ServiceDirectory {
            version: "2026.12".into(),
            categories: vec![
                ServiceCategory { id: "health".into(), name: t("Health") },
                ServiceCategory { id: "legal_aid".into(), name: t("Legal aid") },
            ],
            services: vec![service("BGD-L-1", "legal_aid", None), service("BGD-H-2", "health", Some("KRK")), service("BGD-H-1", "health", Some("RSF"))],
        }
    }

    fn master() -> MasterData {
        MasterData {
            governorates: vec![Governorate {
                code: "BGD".into(),
                name: t("Baghdad"),
                districts: vec![District { code: "RSF".into(), name: t("Rusafa") }, District { code: "KRK".into(), name: t("Karkh") }],
            }],
        }
    }

    #[test]
    fn a_place_sees_its_districts_services_and_the_whole_governorates_in_category_order() {
        let d = directory();
        let ids = |s: Vec<&Service>| s.into_iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(d.serving("BGD", Some("RSF"))), ["BGD-H-1", "BGD-L-1"]);
        assert_eq!(ids(d.serving("BGD", None)), ["BGD-H-1", "BGD-H-2", "BGD-L-1"]);
        assert!(d.serving("ERB", None).is_empty());
        let bytes = serde_json::to_vec(&d).unwrap();
        assert_eq!(ServiceDirectory::parse(&bytes, Some(&master())).unwrap(), d);
    }

    #[test]
    fn parse_errors_name_the_entry_and_the_fix() {
        assert!(matches!(ServiceDirectory::parse(b"{\"version\": \"1\", \"categories\": [", None), Err(DirectoryError::Json(_))));
        assert!(matches!(ServiceDirectory::parse(b"[]", None), Err(DirectoryError::Json(_))));
        let mut d = directory();
        d.version = " ".into();
        d.categories.push(ServiceCategory { id: "Health".into(), name: t("Health") });
        d.services[0].id = "bgd l 1".into();
        d.services[1].id = "BGD-H-1".into();
        d.services[1].category = "housing".into();
        d.services[1].phone = "call us".into();
        d.services[2].district = Some("XXX".into());
        d.services[2].name.ckb = String::new();
        d.services[2].hours.en = "x".repeat(MAX_TEXT + 1);
        let Err(DirectoryError::Invalid(problems)) = ServiceDirectory::parse(&serde_json::to_vec(&d).unwrap(), Some(&master())) else {
            panic!("accepted")
        };
        let all = problems.join("\n");
        for expected in [
            "version:",
            "categories[2].id 'Health'",
            "services[0] (bgd l 1).id: use 1 to 16",
            "services[2] (BGD-H-1).id: another service has this id",
            "services[1] (BGD-H-1).category 'housing'",
            "services[1] (BGD-H-1).phone 'call us'",
            "services[2] (BGD-H-1).district 'XXX': not a district of BGD",
            "services[2] (BGD-H-1).name.ckb: empty",
            "services[2] (BGD-H-1).hours.en: longer than",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
        assert_eq!(problems.len(), 9, "{all}");
        // Without master data the codes are not checked, everything else is.
        let mut unknown_place = directory();
        unknown_place.services[0].governorate = "ZZZ".into();
        assert!(ServiceDirectory::parse(&serde_json::to_vec(&unknown_place).unwrap(), None).is_ok());
        assert!(ServiceDirectory::parse(&serde_json::to_vec(&unknown_place).unwrap(), Some(&master())).is_err());
    }
}

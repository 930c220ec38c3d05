//! The headquarters registry on PostgreSQL: every province's persons, staff reviews and an
//! audit trail. Names are stored as typed and folded (the folded columns serve SQL searches and
//! `pg_trgm`; the matcher folds for itself).

use matcher::{Person, PersonIndex, Sex};
use normalisation::BirthDate;
use tokio_postgres::{Client, NoTls};

use super::RegisteredMatch;

/// Why the registry could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Connecting failed.
    #[error("cannot connect to PostgreSQL at {url}: {source} (is it running? check --postgres)")]
    Connect {
        /// The URL, as given.
        url: String,
        /// Why.
        source: tokio_postgres::Error,
    },
    /// A statement failed.
    #[error("PostgreSQL: {what}: {source}")]
    Statement {
        /// What was being done.
        what: &'static str,
        /// Why.
        source: tokio_postgres::Error,
    },
}

fn failed(what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> RegistryError {
    move |source| RegistryError::Statement { what, source }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS persons (
    case_number text PRIMARY KEY,
    province text NOT NULL,
    national_id text,
    first_name text NOT NULL,
    father_name text NOT NULL,
    grandfather_name text NOT NULL,
    family_name text,
    first_name_folded text NOT NULL,
    father_name_folded text NOT NULL,
    grandfather_name_folded text NOT NULL,
    family_name_folded text,
    mother_name text,
    mother_name_folded text,
    birth_year integer,
    birth_month integer,
    birth_day integer,
    sex text CHECK (sex IN ('female', 'male')),
    governorate text,
    registered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS persons_by_national_id ON persons (national_id);
CREATE INDEX IF NOT EXISTS persons_by_province ON persons (province);
CREATE TABLE IF NOT EXISTS reviews (
    case_number text PRIMARY KEY REFERENCES persons (case_number),
    verdict text NOT NULL CHECK (verdict IN ('confirmed', 'dismissed')),
    reason text NOT NULL,
    decided_by text NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now()
);
-- Partner referrals used by an application, in any province: the first case holds it.
CREATE TABLE IF NOT EXISTS referral_claims (
    partner text NOT NULL,
    serial bigint NOT NULL,
    case_number text NOT NULL,
    province text NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner, serial)
);
CREATE TABLE IF NOT EXISTS audit (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    case_number text,
    detail jsonb NOT NULL
);
";

/// Whether any province registered a person with `national_id`.
pub async fn has_national_id(client: &Client, national_id: &str) -> Result<bool, RegistryError> {
    let row = client
        .query_opt("SELECT 1 FROM persons WHERE national_id = $1 LIMIT 1", &[&national_id])
        .await
        .map_err(failed("look up a national id"))?;
    Ok(row.is_some())
}

/// Connects to `url` (a `postgresql://` URL or `key=value` string) and creates the schema if
/// needed. The connection runs on the current tokio runtime.
pub async fn connect(url: &str) -> Result<Client, RegistryError> {
    let (client, connection) =
        tokio_postgres::connect(url, NoTls).await.map_err(|source| RegistryError::Connect { url: url.into(), source })?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::error!(%error, "PostgreSQL connection lost");
        }
    });
    client.batch_execute(SCHEMA).await.map_err(failed("creating the schema"))?;
    Ok(client)
}

/// Every registered person, as an index.
pub async fn load_index(client: &Client) -> Result<PersonIndex, RegistryError> {
    let rows = client
        .query(
            "SELECT case_number, national_id, first_name, father_name, grandfather_name, family_name, mother_name,
                    birth_year, birth_month, birth_day, sex, governorate
             FROM persons ORDER BY case_number",
            &[],
        )
        .await
        .map_err(failed("reading the persons"))?;
    let mut index = PersonIndex::new();
    for row in rows {
        let year: Option<i32> = row.get(7);
        let month: Option<i32> = row.get(8);
        let day: Option<i32> = row.get(9);
        let sex: Option<String> = row.get(10);
        index.insert(Person {
            case_number: row.get(0),
            national_id: row.get(1),
            first_name: row.get(2),
            father_name: row.get(3),
            grandfather_name: row.get(4),
            family_name: row.get(5),
            mother_name: row.get(6),
            birth_date: year.and_then(|y| u16::try_from(y).ok()).map(|year| BirthDate {
                year,
                month: month.and_then(|m| u8::try_from(m).ok()),
                day: day.and_then(|d| u8::try_from(d).ok()),
            }),
            sex: match sex.as_deref() {
                Some("female") => Some(Sex::Female),
                Some("male") => Some(Sex::Male),
                _ => None,
            },
            governorate: row.get(11),
        });
    }
    Ok(index)
}

/// Records `persons` of `province` with the matches found for each, in one transaction
/// (committed when this returns): a person already recorded under that case number is left as
/// it was. Returns which persons were new.
pub async fn record(
    client: &mut Client,
    province: &str,
    persons: &[(Person, Vec<RegisteredMatch>)],
) -> Result<Vec<bool>, RegistryError> {
    let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
    let insert = tx
        .prepare(
            "INSERT INTO persons (case_number, province, national_id, first_name, father_name, grandfather_name, family_name,
                 first_name_folded, father_name_folded, grandfather_name_folded, family_name_folded, mother_name, mother_name_folded,
                 birth_year, birth_month, birth_day, sex, governorate)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
             ON CONFLICT (case_number) DO NOTHING",
        )
        .await
        .map_err(failed("preparing the insert"))?;
    let audit = tx
        .prepare("INSERT INTO audit (actor, action, case_number, detail) VALUES ($1, 'recorded', $2, $3::text::jsonb)")
        .await
        .map_err(failed("preparing the audit"))?;
    let mut new = Vec::with_capacity(persons.len());
    for (person, matches) in persons {
        let fold = |s: &str| normalisation::fold(s);
        let birth = person.birth_date;
        let sex = person.sex.map(|s| match s {
            Sex::Female => "female",
            Sex::Male => "male",
        });
        let inserted = tx
            .execute(
                &insert,
                &[
                    &person.case_number,
                    &province,
                    &person.national_id,
                    &person.first_name,
                    &person.father_name,
                    &person.grandfather_name,
                    &person.family_name,
                    &fold(&person.first_name),
                    &fold(&person.father_name),
                    &fold(&person.grandfather_name),
                    &person.family_name.as_deref().map(fold),
                    &person.mother_name,
                    &person.mother_name.as_deref().map(fold),
                    &birth.map(|b| i32::from(b.year)),
                    &birth.and_then(|b| b.month).map(i32::from),
                    &birth.and_then(|b| b.day).map(i32::from),
                    &sex,
                    &person.governorate,
                ],
            )
            .await
            .map_err(failed("recording a person"))?
            == 1;
        if inserted {
            // Case numbers and decisions only: the audit trail carries no personal data.
            let detail = serde_json::json!({
                "matches": matches.iter().map(|m| serde_json::json!({
                    "case_number": m.case_number, "decision": m.comparison.decision, "score": m.comparison.score,
                })).collect::<Vec<_>>(),
            })
            .to_string();
            tx.execute(&audit, &[&province, &person.case_number, &detail]).await.map_err(failed("auditing a person"))?;
        }
        new.push(inserted);
    }
    tx.commit().await.map_err(failed("committing"))?;
    Ok(new)
}

/// How many persons the registry holds.
pub async fn count(client: &Client) -> Result<i64, RegistryError> {
    Ok(client.query_one("SELECT count(*) FROM persons", &[]).await.map_err(failed("counting the persons"))?.get(0))
}

/// Claims each referral for its case, in one transaction: a referral nobody held goes to the
/// claiming case; one already held stays with its holder. Returns the holder of each, in order.
pub async fn claim_referrals(
    client: &mut Client,
    province: &str,
    claims: &[crate::referrals::Claim],
) -> Result<Vec<String>, RegistryError> {
    let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
    let insert = tx
        .prepare(
            "INSERT INTO referral_claims (partner, serial, case_number, province) VALUES ($1, $2, $3, $4)
             ON CONFLICT (partner, serial) DO NOTHING",
        )
        .await
        .map_err(failed("preparing the claim"))?;
    let holder = tx
        .prepare("SELECT case_number FROM referral_claims WHERE partner = $1 AND serial = $2")
        .await
        .map_err(failed("preparing the holder lookup"))?;
    let audit = tx
        .prepare("INSERT INTO audit (actor, action, case_number, detail) VALUES ($1, $2, $3, $4::text::jsonb)")
        .await
        .map_err(failed("preparing the audit"))?;
    let mut holders = Vec::with_capacity(claims.len());
    for claim in claims {
        let serial = claim.serial as i64;
        tx.execute(&insert, &[&claim.partner, &serial, &claim.case_number, &province]).await.map_err(failed("claiming a referral"))?;
        let held_by: String = tx.query_one(&holder, &[&claim.partner, &serial]).await.map_err(failed("reading a referral's holder"))?.get(0);
        let action = if held_by == claim.case_number { "referral_claimed" } else { "referral_refused" };
        let detail = serde_json::json!({ "partner": claim.partner, "serial": claim.serial, "used_by": held_by }).to_string();
        tx.execute(&audit, &[&province, &action, &claim.case_number, &detail]).await.map_err(failed("auditing a claim"))?;
        holders.push(held_by);
    }
    tx.commit().await.map_err(failed("committing"))?;
    Ok(holders)
}

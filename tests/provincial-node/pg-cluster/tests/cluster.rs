//! Starts real PostgreSQL 15 clusters: the server answers, pg_trgm compares Arabic names (which
//! it cannot under a C locale), and dropping the cluster stops the server and removes its files.

use pg_cluster::TemporaryCluster;

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect to the temporary cluster");
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn starts_answers_and_stops_leaving_nothing_behind() {
    let cluster = TemporaryCluster::start().expect("start PostgreSQL 15");
    assert_eq!(cluster.host(), "127.0.0.1");
    assert!(cluster.connection_string().contains(&format!(":{}/", cluster.port())));
    let socket = cluster.socket_directory().join(format!(".s.PGSQL.{}", cluster.port()));
    assert!(socket.exists(), "no Unix socket at {}", socket.display());
    let client = connect(&cluster.connection_string()).await;
    let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
    let fsync: String = client.query_one("SHOW fsync", &[]).await.unwrap().get(0);
    assert_eq!(fsync, "on");
    let listen: String = client.query_one("SHOW listen_addresses", &[]).await.unwrap().get(0);
    assert_eq!(listen, "127.0.0.1");
    drop(client);

    let root = cluster.socket_directory().parent().unwrap().to_path_buf();
    let port = cluster.port();
    drop(cluster);
    assert!(!root.exists(), "{} left behind", root.display());
    let refused = tokio_postgres::connect(&format!("postgresql://postgres@127.0.0.1:{port}/postgres"), tokio_postgres::NoTls).await;
    assert!(refused.is_err(), "the server still answers after drop");
}

#[tokio::test]
async fn pg_trgm_compares_arabic_names_in_a_new_database() {
    let cluster = TemporaryCluster::start().expect("start PostgreSQL 15");
    let url = cluster.create_database("registry").expect("create a database");
    let client = connect(&url).await;
    client.batch_execute("CREATE EXTENSION pg_trgm").await.expect("pg_trgm is installed with postgresql-15");
    let row = client
        .query_one(
            "SELECT similarity($1, $2), similarity($1, $3), coalesce(array_length(show_trgm($1), 1), 0)",
            &[&"أحمد محمد علي", &"احمد محمد علي", &"سعاد جبار كريم"],
        )
        .await
        .unwrap();
    let (variant, unrelated, trigrams): (f32, f32, i32) = (row.get(0), row.get(1), row.get(2));
    // Under LC_CTYPE=C every Arabic letter is a non-word character, no trigrams exist and both
    // similarities are 0 (or NaN): the locale is what this test is about.
    assert!(trigrams >= 9, "only {trigrams} trigrams in a three-part Arabic name");
    assert!(variant > 0.5, "a hamza variant should be similar, got {variant}");
    assert!(unrelated < 0.2, "unrelated names should not be, got {unrelated}");
}

#[test]
fn refuses_database_names_that_are_not_identifiers() {
    let cluster = TemporaryCluster::start().expect("start PostgreSQL 15");
    for name in ["", "Registry", "a-b", "x; DROP", "1abc"] {
        let error = cluster.create_database(name).unwrap_err();
        assert!(error.to_string().contains("invalid database name"), "{name}: {error}");
    }
}

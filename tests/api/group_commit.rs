//! Group commit: rows of concurrent requests share transactions, yet each
//! request is answered as if it had run alone; a database failing mid-batch
//! stores none of the batch and answers 503; a row the database refuses fails
//! alone; a full queue refuses at once; a request whose client has gone is
//! written whole or not at all.
//!
//! To make batches form on purpose, a test holds the database's write lock on
//! a connection of its own: the service's writer blocks on it, requests queue
//! up behind, and the next batch takes them together once the lock is let go.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, SqliteConnection};
use teams_usage_store::config::Settings;

use crate::common::ROWS_TABLE;
use crate::helpers::{valid_row, with, Backend, TestApp, TestDatabase, COLLECTION, READ_WRITE};

backend_tests!(
    concurrent_posts_answer_as_serial_execution_would,
    a_database_failing_mid_batch_answers_503_and_stores_none_of_it,
    a_row_the_database_refuses_fails_alone,
    a_full_queue_answers_503_with_retry_after_at_once,
    a_request_whose_client_left_is_written_whole_or_not_at_all,
);

/// How long the tests give requests to reach the queue.
const SETTLE: Duration = Duration::from_millis(400);

/// The service with some `INGEST_*` settings read as from the environment
/// (their defaults follow the backend's DATABASE_URL), on a fresh database.
async fn spawn_with(backend: Backend, vars: &[(&str, &str)]) -> Option<TestApp> {
    TestApp::spawn_with(backend, |settings| {
        let url = settings.database_url.expose().to_owned();
        *settings = Settings {
            port: 0,
            ..Settings::from_lookup(|name| match name {
                "DATABASE_URL" => Some(url.clone()),
                _ => vars
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string()),
            })
            .unwrap()
        };
    })
    .await
}

/// One answer: status, Retry-After, body.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
}

impl Answer {
    fn id(&self) -> &str {
        self.body["id"].as_str().expect("an id")
    }

    fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

/// POSTs `body` to the collection with `token`.
async fn post(app: &TestApp, token: &str, body: &Value) -> Answer {
    let response = app
        .client
        .post(app.url(COLLECTION))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("an answer");
    Answer {
        status: response.status(),
        retry_after: response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: response.json().await.expect("a JSON body"),
    }
}

/// The stored row `id`, read with `token`.
async fn get_row(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!("{COLLECTION}/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "row {id}");
    response.json().await.unwrap()
}

/// A row for the `day`th day of 2026 with `web` users.
fn row(day: u32, web: i64) -> Value {
    let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(u64::from(day) - 1);
    with(
        with(valid_row(), "reportRefreshDate", json!(date.to_string())),
        "web",
        json!(web),
    )
}

/// Another connection holding the write lock, until `release`.
enum WriteLock {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl WriteLock {
    async fn hold(database: &TestDatabase) -> Self {
        let url = database.url.expose();
        match database.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::connect(url).await.unwrap();
                sqlx::raw_sql("BEGIN IMMEDIATE")
                    .execute(&mut conn)
                    .await
                    .unwrap();
                Self::Sqlite(conn)
            }
            Backend::Postgres => {
                let mut conn = PgConnection::connect(url).await.unwrap();
                // SHARE conflicts with the ROW EXCLUSIVE lock every INSERT takes.
                sqlx::raw_sql(&format!("BEGIN; LOCK TABLE {ROWS_TABLE} IN SHARE MODE"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                Self::Postgres(conn)
            }
        }
    }

    async fn release(self) {
        match self {
            Self::Sqlite(mut conn) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            Self::Postgres(mut conn) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
        }
    }
}

/// What serial execution answers a request.
#[derive(Debug, Clone)]
enum Expected {
    Created,
    /// A replay of the stored row with this id.
    Replay(String),
    /// A conflict naming the stored row with this id.
    Conflict(String),
    /// One of two requests racing for the same new key (`race` names the
    /// pair; pairs 0-4 send the same content, 5-9 different counts).
    Race(usize),
}

async fn concurrent_posts_answer_as_serial_execution_would(backend: Backend) {
    let Some(app) = spawn_with(backend, &[]).await else {
        return;
    };
    let contoso = app.token_for("contoso", READ_WRITE).await;
    let mut stored = Vec::new();
    for day in 1..=5 {
        let answer = post(&app, &app.token, &row(day, 10)).await;
        assert_eq!(answer.status, StatusCode::CREATED);
        stored.push(answer.id().to_owned());
    }

    let mut requests: Vec<(&str, Value, Expected)> = Vec::new();
    for day in 10..=29 {
        requests.push((&app.token, row(day, day.into()), Expected::Created));
    }
    // Another tenant's key space is its own.
    requests.push((&contoso, row(1, 10), Expected::Created));
    for (i, id) in stored.iter().enumerate() {
        let day = i as u32 + 1;
        requests.push((&app.token, row(day, 10), Expected::Replay(id.clone())));
        requests.push((&app.token, row(day, 11), Expected::Conflict(id.clone())));
    }
    for race in 0..5 {
        let day = 40 + race as u32;
        requests.push((&app.token, row(day, 1), Expected::Race(race)));
        requests.push((&app.token, row(day, 1), Expected::Race(race)));
        requests.push((&app.token, row(day + 10, 1), Expected::Race(race + 5)));
        requests.push((&app.token, row(day + 10, 2), Expected::Race(race + 5)));
    }
    // Interleave kinds, so every batch mixes them.
    requests.sort_by_key(|(_, body, _)| {
        body["reportRefreshDate"]
            .as_str()
            .unwrap()
            .chars()
            .rev()
            .collect::<String>()
    });

    let lock = WriteLock::hold(&app.database).await;
    let (answers, ()) = tokio::join!(
        join_all(
            requests
                .iter()
                .map(|(token, body, _)| post(&app, token, body))
        ),
        async {
            tokio::time::sleep(SETTLE).await;
            lock.release().await;
        }
    );

    let mut races: Vec<Vec<(&Answer, &Value)>> = vec![Vec::new(); 10];
    for ((token, body, expected), answer) in requests.iter().zip(&answers) {
        match expected {
            Expected::Created => {
                assert_eq!(answer.status, StatusCode::CREATED, "{body} {answer:?}");
                assert_eq!(get_row(&app, token, answer.id()).await, answer.body);
            }
            Expected::Replay(id) => {
                assert_eq!(answer.status, StatusCode::OK, "{body} {answer:?}");
                assert_eq!(answer.id(), id);
            }
            Expected::Conflict(id) => {
                assert_eq!(answer.status, StatusCode::CONFLICT, "{body} {answer:?}");
                assert_eq!(answer.error_code(), "conflict");
                assert!(answer.message().contains(id.as_str()), "{answer:?}");
            }
            Expected::Race(race) => races[*race].push((answer, body)),
        }
    }
    for (race, pair) in races.iter().enumerate() {
        let same_content = race < 5;
        let (winner, winner_body) = *pair
            .iter()
            .find(|(a, _)| a.status == StatusCode::CREATED)
            .unwrap_or_else(|| panic!("one of each pair is created: {pair:?}"));
        let (loser, _) = *pair
            .iter()
            .find(|(a, _)| a.status != StatusCode::CREATED)
            .unwrap_or_else(|| panic!("only one of each pair is created: {pair:?}"));
        if same_content {
            assert_eq!(loser.status, StatusCode::OK, "{pair:?}");
            assert_eq!(loser.id(), winner.id());
        } else {
            assert_eq!(loser.status, StatusCode::CONFLICT, "{pair:?}");
            assert!(loser.message().contains(winner.id()), "{pair:?}");
        }
        assert_eq!(
            get_row(&app, &app.token, winner.id()).await["web"],
            winner_body["web"]
        );
    }
    // The rows stored before keep their counts; nothing is stored twice.
    for id in &stored {
        assert_eq!(get_row(&app, &app.token, id).await["web"], 10);
    }
    assert_eq!(app.database.row_count().await, 5 + 20 + 1 + 10);
}

fn assert_unavailable(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert_eq!(answer.error_code(), "serviceNotAvailable", "{answer:?}");
    assert!(
        answer
            .retry_after
            .as_deref()
            .is_some_and(|s| s.parse::<u32>().is_ok()),
        "Retry-After in seconds: {answer:?}"
    );
}

/// Postgres: the connection dies while the batch's INSERT is half done (a
/// trigger holds it at the middle row). SQLite: another process keeps the
/// database locked past the writer's busy timeout. Either way the database
/// is unavailable for that batch: each of its requests gets 503 with
/// Retry-After, none of its rows is stored, and the service carries on.
async fn a_database_failing_mid_batch_answers_503_and_stores_none_of_it(backend: Backend) {
    // One writer, so the queued rows are sure to form one batch.
    let Some(app) = spawn_with(backend, &[("INGEST_WRITERS", "1")]).await else {
        return;
    };
    // Rows go in key order, so day 15 is the middle of the batch.
    let batch: Vec<Value> = (10..=20)
        .map(|day| row(day, if day == 15 { 666 } else { 1 }))
        .collect();
    let answers = match backend {
        Backend::Postgres => {
            app.database
                .execute(&format!(
                    "CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS \
                       $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$; \
                     CREATE TRIGGER stall BEFORE INSERT ON {ROWS_TABLE} \
                       FOR EACH ROW WHEN (NEW.web = 666) EXECUTE FUNCTION stall()"
                ))
                .await;
            let lock = WriteLock::hold(&app.database).await;
            let alone = row(1, 1);
            let (first, answers, ()) = tokio::join!(
                // Taken alone by the writer, which then waits for the lock.
                post(&app, &app.token, &alone),
                async {
                    tokio::time::sleep(SETTLE).await;
                    join_all(batch.iter().map(|body| post(&app, &app.token, body))).await
                },
                async {
                    tokio::time::sleep(SETTLE * 2).await;
                    lock.release().await;
                    // The batch's INSERT is now stalled at its middle row.
                    let mut admin = PgConnection::connect(app.database.url.expose())
                        .await
                        .unwrap();
                    let mut killed = false;
                    for _ in 0..100 {
                        killed = sqlx::query_scalar(
                            "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity \
                             WHERE datname = current_database() AND wait_event = 'PgSleep'",
                        )
                        .fetch_one(&mut admin)
                        .await
                        .map(|k: Option<bool>| k == Some(true))
                        .unwrap();
                        if killed {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    assert!(killed, "the stalled batch was found");
                    sqlx::raw_sql(&format!("DROP TRIGGER stall ON {ROWS_TABLE}"))
                        .execute(&mut admin)
                        .await
                        .unwrap();
                    admin.close().await.unwrap();
                }
            );
            assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
            answers
        }
        Backend::Sqlite => {
            let lock = WriteLock::hold(&app.database).await;
            let (answers, ()) = tokio::join!(
                join_all(batch.iter().map(|body| post(&app, &app.token, body))),
                async {
                    // Longer than the writer's 5 s busy timeout.
                    tokio::time::sleep(Duration::from_secs(6)).await;
                    lock.release().await;
                }
            );
            // The writer took the first batch and gave up on it after its busy
            // timeout; the rows that queued behind it went in afterwards.
            assert!(
                answers
                    .iter()
                    .any(|a| a.status == StatusCode::SERVICE_UNAVAILABLE),
                "{answers:?}"
            );
            answers
        }
    };
    let mut created = 0;
    for answer in &answers {
        if answer.status == StatusCode::CREATED {
            created += 1;
        } else {
            assert_unavailable(answer);
        }
    }
    if backend == Backend::Postgres {
        assert_eq!(created, 0, "the whole batch failed: {answers:?}");
    }
    let stored_before = app.database.row_count().await;
    let first_row = i64::from(backend == Backend::Postgres);
    assert_eq!(
        stored_before,
        first_row + created,
        "only the rows answered 201"
    );
    // Offered again, the refused rows are new: none of them was stored.
    for (body, answer) in batch.iter().zip(&answers) {
        let again = post(&app, &app.token, body).await;
        let expected = if answer.status == StatusCode::CREATED {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        assert_eq!(again.status, expected, "{body} {again:?}");
    }
    assert_eq!(app.database.row_count().await, first_row + 11);
}

/// A trigger that refuses any row with 666 web users.
fn refuse_sql(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON {ROWS_TABLE} WHEN NEW.web = 666 \
             BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ),
        Backend::Postgres => format!(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
               $$ BEGIN RAISE EXCEPTION 'refused'; END $$; \
             CREATE TRIGGER refuse BEFORE INSERT ON {ROWS_TABLE} \
               FOR EACH ROW WHEN (NEW.web = 666) EXECUTE FUNCTION refuse()"
        ),
    }
}

/// The database refuses one row of a batch for good: that request fails (a
/// 500, as any write refused for good), and its batch-mates are stored and
/// answered as if they had come alone.
async fn a_row_the_database_refuses_fails_alone(backend: Backend) {
    let Some(app) = spawn_with(backend, &[("INGEST_WRITERS", "1")]).await else {
        return;
    };
    app.database.execute(&refuse_sql(backend)).await;
    let batch: Vec<Value> = (10..=20)
        .map(|day| row(day, if day == 15 { 666 } else { 1 }))
        .collect();
    let lock = WriteLock::hold(&app.database).await;
    let alone = row(1, 1);
    let (first, answers, ()) = tokio::join!(
        post(&app, &app.token, &alone),
        async {
            tokio::time::sleep(SETTLE).await;
            join_all(batch.iter().map(|body| post(&app, &app.token, body))).await
        },
        async {
            tokio::time::sleep(SETTLE * 2).await;
            lock.release().await;
        }
    );
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    for (body, answer) in batch.iter().zip(&answers) {
        if body["web"] == 666 {
            assert_eq!(
                answer.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{answer:?}"
            );
            assert_eq!(answer.error_code(), "generalException");
        } else {
            assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
            assert_eq!(get_row(&app, &app.token, answer.id()).await, answer.body);
        }
    }
    assert_eq!(
        app.database.row_count().await,
        1 + 10,
        "all but the refused row"
    );
}

async fn a_full_queue_answers_503_with_retry_after_at_once(backend: Backend) {
    let Some(app) = spawn_with(
        backend,
        &[
            ("INGEST_QUEUE_ROWS", "1"),
            ("INGEST_BATCH_ROWS", "1"),
            ("INGEST_WRITERS", "1"),
        ],
    )
    .await
    else {
        return;
    };
    let refused: Vec<Value> = (3..=6).map(|day| row(day, 1)).collect();
    let lock = WriteLock::hold(&app.database).await;
    let released_at = tokio::sync::OnceCell::new();
    let (taken, waiting) = (row(1, 1), row(2, 1));
    let (first, queued, (answers, answered_at), ()) = tokio::join!(
        // Taken by the writer, which then waits for the lock...
        post(&app, &app.token, &taken),
        // ...this one fills the queue's only place...
        async {
            tokio::time::sleep(SETTLE / 2).await;
            post(&app, &app.token, &waiting).await
        },
        // ...and these find it full.
        async {
            tokio::time::sleep(SETTLE).await;
            let answers = join_all(refused.iter().map(|body| post(&app, &app.token, body))).await;
            (answers, Instant::now())
        },
        async {
            tokio::time::sleep(SETTLE * 3).await;
            released_at.set(Instant::now()).unwrap();
            lock.release().await;
        }
    );
    for answer in &answers {
        assert_unavailable(answer);
    }
    assert!(
        answered_at < *released_at.get().unwrap(),
        "refused at once, not after the writer got going"
    );
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(queued.status, StatusCode::CREATED, "{queued:?}");
    assert_eq!(app.database.row_count().await, 2);
    for body in &refused {
        assert_eq!(
            post(&app, &app.token, body).await.status,
            StatusCode::CREATED
        );
    }
}

async fn a_request_whose_client_left_is_written_whole_or_not_at_all(backend: Backend) {
    let Some(app) = spawn_with(backend, &[("INGEST_WRITERS", "1")]).await else {
        return;
    };
    let lock = WriteLock::hold(&app.database).await;
    let impatient = |day: u32| {
        app.client
            .post(format!("{}{COLLECTION}", app.address))
            .bearer_auth(&app.token)
            .json(&row(day, 1))
            .timeout(SETTLE)
            .send()
    };
    let taken = row(1, 1);
    let (first, gave_up, ()) = tokio::join!(
        post(&app, &app.token, &taken),
        async {
            tokio::time::sleep(SETTLE / 2).await;
            join_all((2..=4).map(impatient)).await
        },
        async {
            tokio::time::sleep(SETTLE * 3).await;
            lock.release().await;
        }
    );
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    for outcome in gave_up {
        assert!(outcome.is_err_and(|e| e.is_timeout()), "the client gave up");
    }
    // The collector retries: each row is there whole (a replay) or not at all
    // (created now); never a conflict with a half-written row, never twice.
    for day in 2..=4 {
        let again = post(&app, &app.token, &row(day, 1)).await;
        assert!(
            again.status == StatusCode::OK || again.status == StatusCode::CREATED,
            "{again:?}"
        );
        assert_eq!(get_row(&app, &app.token, again.id()).await, again.body);
    }
    assert_eq!(app.database.row_count().await, 4);
}

/// Postgres: each writer task holds one connection of its own, however many
/// requests queue, so a replica opens a known number of connections (README,
/// "Running on Postgres").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_writers_hold_one_connection_each() {
    let Some(app) = spawn_with(Backend::Postgres, &[("INGEST_WRITERS", "2")]).await else {
        return;
    };
    let rows: Vec<Value> = (1..=300).map(|day| row(day, 1)).collect();
    let answers = join_all(rows.iter().map(|row| post(&app, &app.token, row))).await;
    assert!(answers.iter().all(|a| a.status == StatusCode::CREATED));

    let mut conn = PgConnection::connect(app.database.url.expose())
        .await
        .unwrap();
    let writer_connections: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'INSERT INTO ' || $1 || ' %'",
    )
    .bind(ROWS_TABLE)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(
        (1..=2).contains(&writer_connections),
        "{writer_connections} connections ran the writers' INSERT"
    );
}

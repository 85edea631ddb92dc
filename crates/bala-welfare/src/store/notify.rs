//! Notifications: shown in the app, and queued in an outbox for e-mail or SMS.
//!
//! A notification carries no personal data: a kind (a Fluent message id shown
//! in the reader's language), a link into Bala and the case number. The outbox
//! is delivered by a [`Notifier`]; the default [`LoggingNotifier`] writes one
//! log line per message, and a deployment plugs in its e-mail or SMS gateway
//! by implementing the trait.

use super::Result;
use bala_store::sqlx::{self, AnyConnection};
use bala_store::{Db, Row};

/// Kinds of notification (each is a Fluent message `notify-<kind>`).
pub const KINDS: &[&str] = &[
    "referral-received",
    "alert-raised",
    "case-assigned",
    "case-shared",
    "break-glass",
    "response-due-soon",
    "response-overdue",
    "referral-overdue",
];

/// One message to deliver outside the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: i64,
    pub user_id: i64,
    pub channel: String,
    pub kind: String,
    pub link: String,
}

/// Delivers outbox messages (e-mail, SMS). Errors are stored and retried.
pub trait Notifier: Send + Sync {
    fn deliver(&self, message: &Outgoing) -> std::result::Result<(), String>;
}

/// The default: a log line per message, nothing leaves the server.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoggingNotifier;

impl Notifier for LoggingNotifier {
    fn deliver(&self, m: &Outgoing) -> std::result::Result<(), String> {
        tracing::info!(
            id = m.id,
            user_id = m.user_id,
            channel = %m.channel,
            kind = %m.kind,
            link = %m.link,
            "notification (logging notifier)"
        );
        Ok(())
    }
}

/// Queues a notification for `user_id`: in the app, and in the outbox.
pub async fn enqueue(
    conn: &mut AnyConnection,
    user_id: i64,
    kind: &str,
    case_id: Option<i64>,
    link: &str,
) -> Result<()> {
    debug_assert!(KINDS.contains(&kind), "unknown notification kind {kind}");
    let (at, _) = super::now();
    for channel in ["in_app", "email"] {
        sqlx::query(
            "INSERT INTO welfare_notifications (user_id, channel, kind, case_id, link, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user_id)
        .bind(channel)
        .bind(kind)
        .bind(case_id)
        .bind(link)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// An in-app notification.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub link: String,
    pub created_at: String,
    pub read: bool,
}

/// The user's in-app notifications, newest first.
pub async fn inbox(db: &Db, user_id: i64, limit: i64) -> Result<Vec<Notification>> {
    let rows = sqlx::query(
        "SELECT id, kind, link, created_at, read_at FROM welfare_notifications
         WHERE user_id = $1 AND channel = 'in_app' ORDER BY id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Notification {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                link: r.try_get(2)?,
                created_at: r.try_get(3)?,
                read: r.try_get::<Option<String>, _>(4)?.is_some(),
            })
        })
        .collect()
}

pub async fn unread_count(db: &Db, user_id: i64) -> Result<i64> {
    Ok(sqlx::query(
        "SELECT COUNT(*) FROM welfare_notifications WHERE user_id = $1 AND channel = 'in_app' AND read_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(db.reader())
    .await?
    .try_get(0)?)
}

/// Marks all of the user's in-app notifications read.
pub async fn mark_all_read(db: &Db, user_id: i64) -> Result<()> {
    let (at, _) = super::now();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE welfare_notifications SET read_at = $1 WHERE user_id = $2 AND channel = 'in_app' AND read_at IS NULL",
    )
    .bind(&at)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Delivers pending outbox messages (at most `batch`, five attempts each);
/// returns how many were delivered.
pub async fn deliver_pending(db: &Db, notifier: &dyn Notifier, batch: i64) -> Result<usize> {
    let rows = sqlx::query(
        "SELECT id, user_id, channel, kind, link FROM welfare_notifications
         WHERE channel <> 'in_app' AND sent_at IS NULL AND attempts < 5 ORDER BY id LIMIT $1",
    )
    .bind(batch)
    .fetch_all(db.reader())
    .await?;
    let mut delivered = 0;
    for r in &rows {
        let m = Outgoing {
            id: r.try_get(0)?,
            user_id: r.try_get(1)?,
            channel: r.try_get(2)?,
            kind: r.try_get(3)?,
            link: r.try_get(4)?,
        };
        let outcome = notifier.deliver(&m);
        let (at, _) = super::now();
        let mut tx = db.begin().await?;
        match outcome {
            Ok(()) => {
                sqlx::query("UPDATE welfare_notifications SET sent_at = $1, attempts = attempts + 1 WHERE id = $2")
                    .bind(&at)
                    .bind(m.id)
                    .execute(&mut *tx)
                    .await?;
                delivered += 1;
            }
            Err(e) => {
                sqlx::query("UPDATE welfare_notifications SET attempts = attempts + 1, last_error = $1 WHERE id = $2")
                    .bind(e)
                    .bind(m.id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
    }
    Ok(delivered)
}

/// Users with `role` whose scope contains `area_code`, most specific scope first
/// (the district's own worker before the city's).
pub async fn responsible_users(db: &Db, role: &str, area_code: &str) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT u.id, MIN(c.depth) AS d FROM users u
         JOIN user_scopes s ON s.user_id = u.id
         JOIN area_closure c ON c.ancestor = s.area_code AND c.descendant = $1
         WHERE u.role = $2 AND u.disabled = 0
         GROUP BY u.id ORDER BY d, u.id",
    )
    .bind(area_code)
    .bind(role)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
}

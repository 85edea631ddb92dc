//! Command-line interface: every subcommand that touches data takes
//! `--database-url` / `BALA_DATABASE_URL`; all have `--help`; errors print a
//! clear message and exit non-zero.

use anyhow::{bail, Context};
use bala_access::{users, Role};
use bala_core::{AreaCode, Iin};
use bala_store::audit::Actor;
use bala_store::{migrate, Db, DbOptions};
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "bala",
    version,
    about = "Bala — information system for children's rights in Kazakhstan"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Clone)]
pub struct Global {
    /// Where Bala keeps its files (the SQLite database, the signing key).
    #[arg(long, env = "BALA_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// `sqlite://<file>` (default: <data-dir>/bala.db) or `postgres://user@host/db`.
    #[arg(long, env = "BALA_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Log format: `text` or `json`.
    #[arg(long, env = "BALA_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,
}

impl Global {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}/bala.db", self.data_dir.display()))
    }
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BALA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Mark cookies Secure (serve over HTTPS, directly or behind a TLS proxy).
    #[arg(long, env = "BALA_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Trust X-Forwarded-For for client addresses (only behind your own proxy).
    #[arg(long, env = "BALA_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Key for signing CSRF tokens (default: generated once into <data-dir>/secret.key).
    #[arg(long, env = "BALA_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Keys sealing case narratives at rest: 64 hex characters, several separated
    /// by commas (the first seals, the others only open older values). Default:
    /// generated once into <data-dir>/encryption.keys.
    #[arg(long, env = "BALA_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web server (applies migrations first).
    Serve(ServeArgs),
    /// Like `serve`, after loading demo areas, people and accounts (once).
    Demo(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Work with IINs.
    #[command(subcommand)]
    Iin(IinCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a consistent copy of a live SQLite database (PostgreSQL: use pg_dump).
    Backup {
        /// The file to create.
        file: PathBuf,
    },
    /// The area tree.
    #[command(subcommand)]
    Areas(AreasCommand),
    /// Import data (indicator values, historical doses, people, FHIR immunization records).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export data (indicator values, FHIR immunization records).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Progress of an indicator to its targets in an area (AARR, projection, status).
    Progress(crate::indicators::ProgressArgs),
    /// Indicators computed from Bala's registers.
    #[command(subcommand)]
    Indicators(IndicatorsCommand),
    /// Encryption keys of case narratives.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Children due, overdue, zero-dose or under-immunized in an area (outreach list).
    Duelist(crate::immunization::DuelistArgs),
    /// Immunization coverage, dropout and zero-dose counts for an area and its sub-areas.
    Coverage(crate::immunization::CoverageArgs),
    /// Immunization maintenance.
    #[command(subcommand)]
    Immunization(ImmunizationCommand),
    /// Fill an empty database with a deterministic synthetic birth cohort (benchmarks).
    Synth(crate::immunization::SynthArgs),
}

#[derive(Subcommand)]
pub enum ImmunizationCommand {
    /// Re-derive every child's valid doses, coverage counters and first due
    /// dates from the calendars in the database (once after upgrading past
    /// migration 3008, whose first due dates let due lists skip children).
    Refresh,
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import indicator values; prints a report per row, progress on stderr.
    Indicators(crate::indicators::ImportArgs),
    /// Import historical doses (CSV or Excel: iin or person_id, product, given_on, lot, lot_expiry, facility, flags, external_id).
    Doses(crate::immunization::RegisterImportArgs),
    /// Import people (CSV or Excel: iin, family_name, given_name, patronymic, family_name_lat, given_name_lat, birth_date, sex, area_code, address, phone).
    People(crate::immunization::RegisterImportArgs),
    /// Import FHIR R4 Patients and Immunizations (a resource, a Bundle or NDJSON);
    /// prints the rejected resources and a summary, progress on stderr.
    Fhir(crate::fhir::ImportArgs),
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// Export published indicator values.
    Indicators(crate::indicators::ExportArgs),
    /// Export an area's children as FHIR R4 NDJSON (Patient, Immunization,
    /// ImmunizationRecommendation); progress on stderr.
    Fhir(crate::fhir::ExportArgs),
}

#[derive(Subcommand)]
pub enum IndicatorsCommand {
    /// Recompute the series Bala derives from its registers (registered children
    /// under 5, child-welfare figures, immunization coverage by birth cohort) and
    /// publish them into the indicator registry.
    Compute {
        /// How many years back, the current one included.
        #[arg(long, default_value_t = 5)]
        years: i32,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Show the configured keys and how many stored values each one seals.
    Status(KeyArgs),
    /// Generate a new key, re-seal every stored value with it, and keep the old
    /// keys for opening (or drop them with --retire once nothing uses them).
    Rotate {
        #[command(flatten)]
        keys: KeyArgs,
        /// Remove the old keys from the key file after re-sealing.
        #[arg(long)]
        retire: bool,
    },
}

#[derive(Args, Clone)]
pub struct KeyArgs {
    /// The keys in use, if given by configuration rather than the key file.
    #[arg(long, env = "BALA_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from standard input (prompted on a terminal).
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// admin, analyst, regional_manager, health_worker, social_worker or supervisor.
        #[arg(long)]
        role: String,
        /// KATO code of the area the user works in (000000000 = the whole republic).
        #[arg(long)]
        area: String,
    },
    /// Set a user's password (read from standard input; ends their sessions).
    Passwd { username: String },
    /// Disable a user (ends sessions, revokes API tokens).
    Disable {
        username: String,
        /// Enable the account again instead.
        #[arg(long)]
        enable: bool,
    },
    /// List users.
    List,
}

#[derive(Subcommand)]
pub enum IinCommand {
    /// Validate an IIN; print the birth date and sex it encodes.
    Check { iin: String },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; name every edited, deleted or missing entry.
    Verify,
}

#[derive(Subcommand)]
pub enum AreasCommand {
    /// Load or update areas from a CSV file with the columns of the shipped areas.csv.
    Import { file: PathBuf },
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BALA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Opens the database and brings its schema up to date.
pub async fn open(global: &Global) -> anyhow::Result<Db> {
    let url = global.database_url();
    let db = Db::connect(&url, &DbOptions::default())
        .await
        .with_context(|| {
            format!(
                "cannot open the database at {}",
                bala_store::redact_url(&url)
            )
        })?;
    let sets = bala_web::all_migrations();
    let applied = migrate::run(&db, &sets)
        .await
        .context("migrating the database")?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "migrations applied");
    }
    bala_registry::areas::seed_reference(&db)
        .await
        .context("loading the reference areas")?;
    bala_indicators::store::registry::seed_reference(&db)
        .await
        .map_err(|e| anyhow::anyhow!("loading the indicator registry: {e}"))?;
    bala_welfare::store::reference::ensure_shipped(&db)
        .await
        .context("loading the shipped screening instrument and alert rules")?;
    Ok(db)
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = cli.global.clone();
    match cli.command {
        Command::Iin(IinCommand::Check { iin }) => Ok(iin_check(&iin)),
        Command::Serve(args) => {
            init_logging(&g.log_format);
            serve(&g, args, false).await
        }
        Command::Demo(args) => {
            init_logging(&g.log_format);
            serve(&g, args, true).await
        }
        Command::Migrate => {
            init_logging(&g.log_format);
            let db = open(&g).await?;
            println!("database at {} is up to date", db.display_url());
            Ok(ExitCode::SUCCESS)
        }
        Command::User(cmd) => user(&g, cmd).await,
        Command::Audit(AuditCommand::Verify) => audit_verify(&g).await,
        Command::Backup { file } => {
            let db = open(&g).await?;
            db.backup_sqlite(&file).await?;
            println!(
                "wrote a consistent copy of {} to {}",
                db.display_url(),
                file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(ImportCommand::Indicators(args)) => {
            let db = open(&g).await?;
            crate::indicators::import(&db, args).await
        }
        Command::Import(ImportCommand::Doses(args)) => {
            // A register's load writes with a rollback journal when nothing
            // else has the SQLite file open (ADR 0031).
            let db = open(&g).await?.with_exclusive_loads();
            crate::immunization::import_register(&db, args, false).await
        }
        Command::Import(ImportCommand::People(args)) => {
            let db = open(&g).await?;
            crate::immunization::import_register(&db, args, true).await
        }
        Command::Duelist(args) => {
            let db = open(&g).await?;
            crate::immunization::duelist(&db, args).await
        }
        Command::Coverage(args) => {
            let db = open(&g).await?;
            crate::immunization::coverage(&db, args).await
        }
        Command::Synth(args) => {
            let db = open(&g).await?;
            crate::immunization::synth(&db, args).await
        }
        Command::Immunization(ImmunizationCommand::Refresh) => {
            let db = open(&g).await?;
            crate::immunization::refresh(&db).await
        }
        Command::Import(ImportCommand::Fhir(args)) => {
            let db = open(&g).await?;
            crate::fhir::import(&db, args).await
        }
        Command::Export(ExportCommand::Fhir(args)) => {
            let db = open(&g).await?;
            crate::fhir::export(&db, args).await
        }
        Command::Export(ExportCommand::Indicators(args)) => {
            let db = open(&g).await?;
            crate::indicators::export(&db, args).await
        }
        Command::Progress(args) => {
            let db = open(&g).await?;
            crate::indicators::progress(&db, args).await
        }
        Command::Indicators(IndicatorsCommand::Compute { years }) => {
            let db = open(&g).await?;
            for (what, p) in
                crate::computed::refresh_all(&db, time::OffsetDateTime::now_utc().date(), years)
                    .await?
            {
                println!(
                    "{what}: {} added, {} updated, {} unchanged",
                    p.added, p.updated, p.unchanged
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(cmd) => keys(&g, cmd).await,
        Command::Areas(AreasCommand::Import { file }) => {
            let db = open(&g).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            match bala_registry::areas::import_csv(&db, &Actor::system("cli"), &text).await {
                Ok(n) => {
                    println!("loaded {n} areas");
                    Ok(ExitCode::SUCCESS)
                }
                Err(bala_registry::RegistryError::Validation(errors)) => {
                    for e in &errors.0 {
                        eprintln!("{}: {}", e.field, e.detail);
                    }
                    eprintln!("nothing was loaded: {} problem(s)", errors.0.len());
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

fn iin_check(raw: &str) -> ExitCode {
    match Iin::parse(raw) {
        Ok(iin) => {
            println!("valid IIN {iin}");
            println!("birth date: {}", bala_core::date::iso(iin.birth_date()));
            println!("sex: {}", iin.sex());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("invalid IIN '{}': {e}", raw.trim());
            ExitCode::FAILURE
        }
    }
}

async fn serve(g: &Global, args: ServeArgs, demo: bool) -> anyhow::Result<ExitCode> {
    let db = open(g).await?;
    let encryption = key_ring(g, args.encryption_key.as_deref())?;
    if demo {
        crate::demo::load(&db, &encryption)
            .await
            .context("loading demo data")?;
    }
    let secret_key = match args.secret_key {
        Some(k) if k.len() >= 32 => k.into_bytes(),
        Some(_) => bail!("--secret-key / BALA_SECRET_KEY needs at least 32 characters"),
        None => bala_web::config::load_or_create_secret(&g.data_dir)
            .with_context(|| format!("cannot create {}/secret.key", g.data_dir.display()))?,
    };
    let config = bala_web::Config {
        listen: args.listen,
        data_dir: g.data_dir.clone(),
        database_url: g.database_url(),
        secure_cookies: args.secure_cookies,
        secret_key,
        trust_proxy: args.trust_proxy,
        encryption,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let app = bala_web::build(db.clone(), config, bala_web::person_refs());
    tokio::spawn(welfare_housekeeping(db.clone()));
    println!(
        "Bala is running at http://{addr}/ (database: {})",
        db.display_url()
    );
    if demo {
        crate::demo::print_logins();
    }
    bala_web::serve(listener, app, bala_web::shutdown_signal()).await?;
    db.close().await;
    println!("Bala stopped.");
    Ok(ExitCode::SUCCESS)
}

fn read_password(prompt: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let p1 = rpassword::prompt_password(prompt)?;
        let p2 = rpassword::prompt_password("again: ")?;
        if p1 != p2 {
            bail!("the two passwords differ");
        }
        Ok(p1)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

fn report_validation(e: &bala_core::ValidationErrors) {
    for f in &e.0 {
        eprintln!("{}: {}", f.field, f.detail);
    }
}

async fn user(g: &Global, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let db = open(g).await?;
    let actor = Actor::system("cli");
    let result = match cmd {
        UserCommand::Add {
            username,
            display_name,
            role,
            area,
        } => {
            let role: Role = role
                .parse()
                .map_err(|e: String| anyhow::anyhow!("--role: {e}"))?;
            let area = AreaCode::parse(&area).map_err(|e| anyhow::anyhow!("--area: {e}"))?;
            if bala_registry::areas::get(&db, area.as_str())
                .await?
                .is_none()
            {
                bail!("--area: no area has KATO code {area}");
            }
            let password = read_password("password for the new user: ")?;
            let new = users::NewUser {
                username,
                display_name,
                password,
                role,
                scope: vec![area],
            };
            users::create(&db, &actor, &new)
                .await
                .map(|id| println!("created user {} (id {id})", new.username))
        }
        UserCommand::Passwd { username } => {
            let (u, _) = users::find_by_username(&db, &username)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user named '{username}'"))?;
            let password = read_password(&format!("new password for {username}: "))?;
            users::set_password(&db, &actor, u.id, &password)
                .await
                .map(|_| println!("password set; {username}'s sessions were ended"))
        }
        UserCommand::Disable { username, enable } => {
            let (u, _) = users::find_by_username(&db, &username)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user named '{username}'"))?;
            users::set_disabled(&db, &actor, u.id, !enable)
                .await
                .map(|_| {
                    println!(
                        "{username} is {}",
                        if enable {
                            "enabled"
                        } else {
                            "disabled; sessions ended, tokens revoked"
                        }
                    )
                })
        }
        UserCommand::List => {
            for u in users::list(&db).await? {
                let scope: Vec<&str> = u.scope.iter().map(|a| a.as_str()).collect();
                println!(
                    "{:<24} {:<18} {:<10} {}{}",
                    u.username,
                    u.role.code(),
                    scope.join(","),
                    u.display_name,
                    if u.disabled { " (disabled)" } else { "" }
                );
            }
            Ok(())
        }
    };
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(bala_access::AccessError::Validation(e)) => {
            report_validation(&e);
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

async fn audit_verify(g: &Global) -> anyhow::Result<ExitCode> {
    let db = open(g).await?;
    let report = bala_store::audit::verify(&db).await?;
    if report.problems.is_empty() {
        println!(
            "audit trail intact: {} entries, hash chain verified",
            report.entries
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "audit trail BROKEN: {} entries read, {} problem(s):",
            report.entries,
            report.problems.len()
        );
        for p in &report.problems {
            println!("  - {p}");
        }
        Ok(ExitCode::FAILURE)
    }
}

/// The encryption keys: from `--encryption-key` / `BALA_ENCRYPTION_KEY`, or the
/// key file in the data directory (created with one new key on first start).
fn key_ring(g: &Global, configured: Option<&str>) -> anyhow::Result<bala_welfare::crypt::KeyRing> {
    match configured.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => bala_welfare::crypt::KeyRing::parse(k)
            .map_err(|e| anyhow::anyhow!("--encryption-key / BALA_ENCRYPTION_KEY: {e}")),
        None => bala_welfare::crypt::load_or_create_key_file(&g.data_dir).with_context(|| {
            format!(
                "cannot read or create {}/{}",
                g.data_dir.display(),
                bala_welfare::crypt::KEY_FILE
            )
        }),
    }
}

/// Every minute: first-response escalations, overdue referrals, then the notification outbox.
async fn welfare_housekeeping(db: Db) {
    let notifier = bala_welfare::store::notify::LoggingNotifier;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = bala_welfare::store::cases::escalate(&db).await {
            tracing::warn!(error = %e, "welfare escalation sweep failed");
        }
        if let Err(e) = bala_welfare::store::referrals::notify_overdue(&db).await {
            tracing::warn!(error = %e, "overdue referral sweep failed");
        }
        if let Err(e) = bala_welfare::store::notify::deliver_pending(&db, &notifier, 200).await {
            tracing::warn!(error = %e, "notification delivery failed");
        }
    }
}

async fn keys(g: &Global, cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    let db = open(g).await?;
    match cmd {
        KeysCommand::Status(k) => {
            let ring = key_ring(g, k.encryption_key.as_deref())?;
            let usage = bala_welfare::store::keys::usage(&db).await?;
            println!("configured keys (first seals new values):");
            for id in ring.ids() {
                println!(
                    "  {id}  seals {} stored value(s)",
                    usage.get(&id).copied().unwrap_or(0)
                );
            }
            let unknown: Vec<_> = usage
                .iter()
                .filter(|(id, _)| !ring.ids().contains(id))
                .collect();
            for (id, n) in &unknown {
                println!("  {id}  NOT CONFIGURED: {n} value(s) cannot be opened");
            }
            Ok(if unknown.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        KeysCommand::Rotate { keys, retire } => {
            let from_env = keys
                .encryption_key
                .as_deref()
                .is_some_and(|k| !k.trim().is_empty());
            let old = key_ring(g, keys.encryption_key.as_deref())?;
            let new_key = bala_welfare::crypt::SecretKey::generate();
            let ring = old.rotated(new_key.clone());
            if !from_env {
                // Written first: a crash while re-sealing leaves every key available.
                bala_welfare::crypt::write_key_file(&g.data_dir, &ring).with_context(|| {
                    format!(
                        "cannot write {}/{}",
                        g.data_dir.display(),
                        bala_welfare::crypt::KEY_FILE
                    )
                })?;
            }
            let n = bala_welfare::store::keys::reseal_all(&db, &ring).await?;
            println!(
                "new key {} now seals all values; {n} value(s) re-sealed",
                new_key.id()
            );
            let final_ring = if retire {
                let usage = bala_welfare::store::keys::usage(&db).await?;
                let still: Vec<String> = usage
                    .keys()
                    .filter(|id| *id != new_key.id())
                    .cloned()
                    .collect();
                if !still.is_empty() {
                    bail!(
                        "old keys are still in use ({}); not retiring them",
                        still.join(", ")
                    );
                }
                ring.retaining(&[])
            } else {
                ring
            };
            if from_env {
                println!(
                    "set BALA_ENCRYPTION_KEY to the following (new key first) and restart Bala:"
                );
                println!(
                    "{}",
                    final_ring
                        .to_file_text()
                        .lines()
                        .filter(|l| !l.starts_with('#'))
                        .collect::<Vec<_>>()
                        .join(",")
                );
            } else {
                bala_welfare::crypt::write_key_file(&g.data_dir, &final_ring)?;
                println!(
                    "{}/{} holds {} key(s); restart Bala to use it",
                    g.data_dir.display(),
                    bala_welfare::crypt::KEY_FILE,
                    final_ring.ids().len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

//! `bala import fhir`, `bala export fhir`: FHIR R4 immunization exchange.
//!
//! Like `bala import indicators`, the command line acts as the system user
//! (`system:cli`) with the whole country in scope: the operator runs it on the
//! server and is trusted. `--as <username>` acts as that account instead, with
//! its areas, and only if its role may exchange personal data in bulk; the audit
//! trail then names the user.

use anyhow::{bail, Context};
use bala_access::{can, users, Action};
use bala_core::AreaCode;
use bala_fhir::store as fhir;
use bala_registry::people::Ctx;
use bala_registry::RegistryError;
use bala_store::audit::Actor;
use bala_store::Db;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ImportArgs {
    /// A FHIR R4 resource, Bundle or NDJSON file (Patient and Immunization).
    pub file: PathBuf,
    /// Check and report only; store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Act as this user (their areas and name in the audit trail) instead of the system.
    #[arg(long = "as", value_name = "USERNAME")]
    pub as_user: Option<String>,
    /// Print every resource, not only the rejected ones.
    #[arg(long)]
    pub all_rows: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Directory to write Patient.ndjson, Immunization.ndjson and
    /// ImmunizationRecommendation.ndjson into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// KATO code of the area whose children are exported (default: the whole scope).
    #[arg(long)]
    pub area: Option<String>,
    /// Act as this user (their areas and name in the audit trail) instead of the system.
    #[arg(long = "as", value_name = "USERNAME")]
    pub as_user: Option<String>,
}

/// The acting user and their scope.
async fn acting(db: &Db, as_user: Option<&str>) -> anyhow::Result<(Actor, Vec<AreaCode>)> {
    let Some(name) = as_user else {
        return Ok((Actor::system("cli"), vec![AreaCode::republic()]));
    };
    let (u, _) = users::find_by_username(db, name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("--as: no user named '{name}'"))?;
    if u.disabled {
        bail!("--as: the account '{name}' is disabled");
    }
    if !can(&users::principal(&u), Action::BulkExchange) {
        bail!(
            "--as: '{name}' ({}) may not import or export personal data in bulk",
            u.role.code()
        );
    }
    Ok((
        Actor {
            id: Some(u.id),
            name: format!("{} (cli)", u.username),
            ip: None,
        },
        u.scope,
    ))
}

pub async fn import(db: &Db, a: ImportArgs) -> anyhow::Result<ExitCode> {
    let (actor, scope) = acting(db, a.as_user.as_deref()).await?;
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let Ok(text) = String::from_utf8(bytes) else {
        eprintln!(
            "{}: not UTF-8 text, so not FHIR JSON; nothing was imported",
            a.file.display()
        );
        return Ok(ExitCode::FAILURE);
    };
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    let mut p = crate::progress::reporter("resources");
    let report = fhir::import(db, ctx, &text, a.dry_run, &mut p)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = std::io::stdout().lock();
    for o in &report.outcomes {
        if o.outcome != "rejected" && !a.all_rows {
            continue;
        }
        let what = if o.resource.is_empty() {
            o.location.clone()
        } else {
            format!("{} {}", o.location, o.resource)
        };
        let field = if o.field.is_empty() {
            String::new()
        } else {
            format!("{}: ", o.field)
        };
        writeln!(out, "{what} ({}) — {field}{}", o.outcome, o.message)?;
    }
    writeln!(out, "{}", report.summary())?;
    Ok(if report.rejected > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

pub async fn export(db: &Db, a: ExportArgs) -> anyhow::Result<ExitCode> {
    let (actor, scope) = acting(db, a.as_user.as_deref()).await?;
    let area = match &a.area {
        Some(code) => AreaCode::parse(code).map_err(|e| anyhow::anyhow!("--area: {e}"))?,
        None if scope.len() == 1 => scope[0].clone(),
        None => bail!("--area: the user works in several areas; name one"),
    };
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    let mut p = crate::progress::reporter("children");
    let today = time::OffsetDateTime::now_utc().date();
    match fhir::export_area(db, ctx, &area, &a.out, today, &mut p).await {
        Ok(s) => {
            println!(
                "wrote {} patients, {} immunizations, {} recommendations to {} ({})",
                s.patients,
                s.immunizations,
                s.recommendations,
                a.out.display(),
                s.files.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(RegistryError::NotFound) => {
            eprintln!("--area: no area {area} within the areas you may export");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

//! `bala duelist`, `bala coverage`, `bala import doses|people`,
//! `bala immunization refresh`: batch work of the immunization pillar, run as
//! the command line's system user over the whole country (the operator is
//! trusted; every run is audited).

use anyhow::{bail, Context};
use bala_core::{parse_date, AreaCode};
use bala_immunization::store::{calendars, coverage, duelist, facts, import};
use bala_immunization::table::{self, Table};
use bala_registry::people::Ctx;
use bala_store::audit::Actor;
use bala_store::Db;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

fn today() -> bala_core::Date {
    time::OffsetDateTime::now_utc().date()
}

fn check_format(f: &str) -> anyhow::Result<()> {
    match f {
        "csv" | "json" => Ok(()),
        other => bail!("--format: '{other}' is not csv or json"),
    }
}

async fn check_area(db: &Db, area: &str) -> anyhow::Result<()> {
    if bala_registry::areas::get(db, area).await?.is_none() {
        bail!("--area: no area has KATO code '{area}'");
    }
    Ok(())
}

#[derive(Args)]
pub struct DuelistArgs {
    /// KATO code of the area.
    #[arg(long)]
    pub area: String,
    /// Reference date, YYYY-MM-DD (default: today).
    #[arg(long)]
    pub on: Option<String>,
    /// Also list doses becoming due up to this date.
    #[arg(long)]
    pub until: Option<String>,
    /// due, overdue, zero-dose or under-immunized.
    #[arg(long, default_value = "due")]
    pub kind: String,
    /// csv or json.
    #[arg(long, default_value = "csv")]
    pub format: String,
}

pub async fn duelist(db: &Db, a: DuelistArgs) -> anyhow::Result<ExitCode> {
    check_format(&a.format)?;
    check_area(db, &a.area).await?;
    let date = |name: &str, s: &Option<String>| -> anyhow::Result<Option<bala_core::Date>> {
        s.as_deref()
            .map(|s| {
                parse_date(s)
                    .map_err(|_| anyhow::anyhow!("--{name}: '{s}' is not a date (YYYY-MM-DD)"))
            })
            .transpose()
    };
    let kind = duelist::Kind::parse(&a.kind).ok_or_else(|| {
        anyhow::anyhow!(
            "--kind: '{}' is not due, overdue, zero-dose or under-immunized",
            a.kind
        )
    })?;
    let filter = duelist::Filter {
        area: a.area.clone(),
        kind,
        on: date("on", &a.on)?.unwrap_or_else(today),
        until: date("until", &a.until)?,
        min_days_overdue: 0,
    };
    let entries =
        duelist::list(db, &Actor::system("cli"), &[AreaCode::republic()], &filter).await?;
    let mut out = std::io::stdout().lock();
    if a.format == "json" {
        serde_json::to_writer_pretty(&mut out, &entries)?;
        writeln!(out)?;
    } else {
        let mut t = Table::new(&[
            "person_id",
            "name",
            "iin",
            "birth_date",
            "area_code",
            "phone",
            "caregiver",
            "caregiver_phone",
            "label",
            "status",
            "recommended",
            "days_overdue",
        ]);
        for e in &entries {
            let cg = e.caregivers.first();
            let child = [
                e.person_id.to_string(),
                e.name.clone(),
                e.iin.clone().unwrap_or_default(),
                e.birth_date.clone(),
                e.area_code.clone(),
                e.phone.clone().unwrap_or_default(),
                cg.map(|c| c.name.clone()).unwrap_or_default(),
                cg.and_then(|c| c.phone.clone()).unwrap_or_default(),
            ];
            // One line per dose needed; zero-dose and under-immunized lists name
            // no dose, so their children get one line with the list's kind.
            let doses: Vec<[String; 4]> = if e.items.is_empty() {
                vec![[
                    String::new(),
                    kind.code().into(),
                    String::new(),
                    String::new(),
                ]]
            } else {
                e.items
                    .iter()
                    .map(|i| {
                        [
                            i.label.clone(),
                            i.status.clone(),
                            i.recommended.clone(),
                            i.days_overdue.map(|d| d.to_string()).unwrap_or_default(),
                        ]
                    })
                    .collect()
            };
            for d in doses {
                t.push(child.iter().cloned().chain(d));
            }
        }
        // Without the byte-order mark: this output is for pipes and scripts.
        out.write_all(&table::to_csv(&t)["\u{feff}".len()..])?;
    }
    eprintln!("{} children", entries.len());
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct CoverageArgs {
    /// KATO code of the area (its sub-areas are listed too).
    #[arg(long, default_value = "000000000")]
    pub area: String,
    /// Birth cohort (or, with --basis period, reporting year).
    #[arg(long)]
    pub cohort: i32,
    /// Dose labels to report (repeat or separate with commas), e.g. DTP3,MCV1; default: all.
    #[arg(long, value_delimiter = ',')]
    pub antigen: Vec<String>,
    /// cohort (register denominator) or period (official target population).
    #[arg(long, default_value = "cohort")]
    pub basis: String,
    /// csv or json.
    #[arg(long, default_value = "csv")]
    pub format: String,
}

pub async fn coverage(db: &Db, a: CoverageArgs) -> anyhow::Result<ExitCode> {
    check_format(&a.format)?;
    check_area(db, &a.area).await?;
    if !(1990..=2100).contains(&a.cohort) {
        bail!("--cohort: a year from 1990 to 2100");
    }
    for l in &a.antigen {
        if !coverage::LABELS.contains(&l.as_str()) {
            bail!(
                "--antigen: '{l}' is not one of {}",
                coverage::LABELS.join(", ")
            );
        }
    }
    let basis = coverage::Basis::parse(&a.basis)
        .ok_or_else(|| anyhow::anyhow!("--basis: cohort or period"))?;
    let mut report = coverage::report(db, &a.area, a.cohort, basis, today()).await?;
    if !a.antigen.is_empty() {
        for ac in report
            .children
            .iter_mut()
            .chain(std::iter::once(&mut report.area))
        {
            ac.doses.retain(|d| a.antigen.contains(&d.label));
        }
    }
    let mut out = std::io::stdout().lock();
    if a.format == "json" {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&[
        "area_code",
        "basis",
        "year",
        "denominator",
        "label",
        "vaccinated",
        "coverage_pct",
        "by_12m",
        "by_24m",
        "timely",
        "zero_dose",
        "dropout_dtp1_dtp3_pct",
    ]);
    for ac in std::iter::once(&report.area).chain(report.children.iter()) {
        for d in &ac.doses {
            t.push(vec![
                ac.area_code.clone(),
                basis.code().into(),
                a.cohort.to_string(),
                ac.denominator.map(|n| n.to_string()).unwrap_or_default(),
                d.label.clone(),
                d.vaccinated.to_string(),
                d.coverage.map(|c| format!("{c:.1}")).unwrap_or_default(),
                d.by_12m.to_string(),
                d.by_24m.to_string(),
                d.timely.to_string(),
                ac.zero_dose.map(|n| n.to_string()).unwrap_or_default(),
                ac.dropout_dtp1_dtp3
                    .map(|c| format!("{c:.1}"))
                    .unwrap_or_default(),
            ]);
        }
    }
    out.write_all(&table::to_csv(&t)["\u{feff}".len()..])?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct RegisterImportArgs {
    /// A CSV (comma or semicolon) or Excel (.xlsx) file with a header row.
    pub file: PathBuf,
    /// Check and report every row; store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print every row, not only the rejected ones.
    #[arg(long)]
    pub all_rows: bool,
}

/// `bala import doses` and `bala import people`.
pub async fn import_register(
    db: &Db,
    a: RegisterImportArgs,
    people: bool,
) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let columns: &[&str] = if people {
        &import::PEOPLE_COLUMNS
    } else {
        &import::DOSE_COLUMNS
    };
    let t = match import::read(&bytes, columns) {
        Ok(t) => t,
        Err(e) => {
            for f in &e.0 {
                eprintln!("{}: {}: {}", a.file.display(), f.field, f.detail);
            }
            eprintln!("nothing was imported");
            return Ok(ExitCode::FAILURE);
        }
    };
    let read_s = started.elapsed().as_secs_f64();
    let actor = Actor::system("cli");
    let scope = [AreaCode::republic()];
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    let mut progress = crate::progress::reporter("rows");
    let source = format!(
        "csv:{}",
        a.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let report = if people {
        import::people(db, ctx, &t, a.dry_run, &mut progress).await?
    } else {
        import::doses(db, ctx, &t, &source, a.dry_run, &mut progress).await?
    };
    if !report.phases.is_empty() {
        // Seconds from the start: the file read, each phase of the import,
        // then the per-row report (built after the commit).
        let steps: Vec<String> = report
            .phases
            .iter()
            .map(|(what, at)| format!("{what} {:.1} s", read_s + at))
            .collect();
        let total = started.elapsed().as_secs_f64();
        eprintln!(
            "file read {read_s:.1} s; {}; report built {total:.1} s",
            steps.join("; ")
        );
    }
    let mut out = std::io::stdout().lock();
    for o in &report.outcomes {
        if o.outcome == "rejected" || a.all_rows {
            let field = if o.field.is_empty() {
                String::new()
            } else {
                format!("{}: ", o.field)
            };
            writeln!(out, "row {} ({}): {field}{}", o.row, o.outcome, o.message)?;
        }
    }
    writeln!(
        out,
        "{} rows: {} {}, {} unchanged, {} rejected{}",
        report.rows,
        report.imported,
        if a.dry_run {
            "would be imported"
        } else {
            "imported"
        },
        report.unchanged,
        report.rejected,
        if a.dry_run {
            " (dry run: nothing was stored)"
        } else {
            ""
        }
    )?;
    Ok(if report.rejected > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Re-derives every child's valid doses (after restoring a backup or editing
/// the calendar file by hand); prints how many children.
pub async fn refresh(db: &Db) -> anyhow::Result<ExitCode> {
    let cals = calendars::all(db).await?;
    let mut bulk = db.bulk().await?;
    let mut progress = crate::progress::reporter("areas: valid doses re-derived");
    let n = facts::rebuild_bulk(&mut bulk, &cals, &mut progress).await?;
    bulk.commit().await?;
    db.vacuum(&facts::BULK_TABLES).await?;
    println!("re-derived the valid doses of {n} children");
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct SynthArgs {
    /// Children in the birth cohort (Kazakhstan: about 400000 a year).
    #[arg(long, default_value_t = 20_000)]
    pub births: usize,
    /// Birth year of the cohort (default: two years ago, so every dose of the first two years is due).
    #[arg(long)]
    pub year: Option<i32>,
    /// Seed: the same seed gives the same data.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Write the doses to this CSV file (the columns `bala import doses`
    /// reads) instead of the database, to benchmark the importer.
    #[arg(long)]
    pub doses_to: Option<std::path::PathBuf>,
}

/// `bala synth`: a deterministic synthetic cohort for benchmarks (empty databases only).
pub async fn synth(db: &Db, a: SynthArgs) -> anyhow::Result<ExitCode> {
    use bala_immunization::store::synth;
    if a.births == 0 || a.births > 5_000_000 {
        bail!("--births: from 1 to 5000000");
    }
    let opts = synth::Options {
        births: a.births,
        year: a.year.unwrap_or_else(|| today().year() - 2),
        seed: a.seed,
        doses_to: a.doses_to.clone(),
    };
    let mut progress = crate::progress::reporter("children");
    let r = match synth::generate(db, &opts, &mut progress).await {
        Ok(r) => r,
        Err(bala_registry::RegistryError::Store(bala_store::StoreError::Other(m))) => {
            eprintln!("error: {m}");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    let rate = |n: usize, s: f64| if s > 0.0 { (n as f64 / s) as u64 } else { 0 };
    let people = r.children + r.mothers;
    println!(
        "{} children ({} registered twice) and {} mothers as caregivers in {} areas: {:.1} s ({} rows/s)",
        r.children,
        r.duplicates,
        r.mothers,
        r.areas,
        r.people_seconds,
        rate(people, r.people_seconds)
    );
    println!(
        "{} measles refusals, {} contraindications recorded",
        r.refusals, r.contraindications
    );
    if let Some(path) = &a.doses_to {
        println!(
            "{} doses written to {} in {:.1} s ({} with a mistyped IIN)",
            r.doses,
            path.display(),
            r.doses_seconds,
            r.bad_iins
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} doses, refusals and contraindications: {:.1} s ({} doses/s)",
        r.doses,
        r.doses_seconds,
        rate(r.doses, r.doses_seconds)
    );
    println!(
        "valid-dose facts and counters derived in {:.1} s ({} doses/s through the engine)",
        r.refresh_seconds,
        rate(r.doses, r.refresh_seconds)
    );
    Ok(ExitCode::SUCCESS)
}

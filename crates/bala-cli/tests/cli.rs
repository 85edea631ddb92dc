//! The `bala` command as an operator uses it: exit codes, messages, both databases.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bala() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bala"));
    c.env_remove("BALA_DATABASE_URL")
        .env_remove("BALA_DATA_DIR")
        .env("BALA_LOG", "warn");
    c
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = bala()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bala");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("bala-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn iin_check_prints_birth_date_and_sex_or_the_fault() {
    let ok = run(&["iin", "check", "900101300126"], None);
    assert!(ok.status.success());
    let out = text(&ok);
    assert!(
        out.contains("birth date: 1990-01-01") && out.contains("sex: M"),
        "{out}"
    );
    let bad = run(&["iin", "check", "900101300127"], None);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad).contains("check digit"), "{}", text(&bad));
    let short = run(&["iin", "check", "12345"], None);
    assert_eq!(short.status.code(), Some(1));
    assert!(text(&short).contains("12 digits"));
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["migrate", "--help"],
        vec!["user", "--help"],
        vec!["user", "add", "--help"],
        vec!["user", "passwd", "--help"],
        vec!["user", "disable", "--help"],
        vec!["user", "list", "--help"],
        vec!["iin", "check", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["backup", "--help"],
        vec!["areas", "import", "--help"],
        vec!["import", "fhir", "--help"],
        vec!["export", "fhir", "--help"],
    ] {
        let o = run(&args, None);
        assert!(o.status.success(), "{args:?}");
        assert!(text(&o).contains("Usage"), "{args:?}");
    }
    let o = run(&["no-such-command"], None);
    assert!(!o.status.success());
}

#[test]
fn bad_database_url_is_a_clear_error() {
    let o = run(&["--database-url", "mysql://x", "migrate"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("unsupported database URL"),
        "{}",
        text(&o)
    );
}

/// Users, audit verification and backup on an SQLite database in a data directory.
#[test]
fn operator_workflow_on_sqlite() {
    let dir = temp_dir("ops");
    let d = dir.to_str().unwrap();
    assert!(run(&["--data-dir", d, "migrate"], None).status.success());
    assert!(dir.join("bala.db").exists());

    let add = [
        "--data-dir",
        d,
        "user",
        "add",
        "--username",
        "nurse1",
        "--display-name",
        "Айгүл",
        "--role",
        "health_worker",
        "--area",
        "751110000",
    ];
    let o = run(&add, Some("short\n"));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("password: a password needs at least 10 characters"),
        "{}",
        text(&o)
    );
    let o = run(&add, Some("Spring-Tulip-2026\n"));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&add, Some("Spring-Tulip-2026\n"));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("username"), "{}", text(&o));
    let o = run(
        &[
            "--data-dir",
            d,
            "user",
            "add",
            "--username",
            "x1x",
            "--display-name",
            "X",
            "--role",
            "root",
            "--area",
            "751110000",
        ],
        Some("Spring-Tulip-2026\n"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("--role"), "{}", text(&o));
    let o = run(
        &[
            "--data-dir",
            d,
            "user",
            "add",
            "--username",
            "x1x",
            "--display-name",
            "X",
            "--role",
            "admin",
            "--area",
            "123456789",
        ],
        Some("Spring-Tulip-2026\n"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("no area has KATO code 123456789"),
        "{}",
        text(&o)
    );

    assert!(run(
        &["--data-dir", d, "user", "passwd", "nurse1"],
        Some("Autumn-Maple-2027\n")
    )
    .status
    .success());
    assert!(run(&["--data-dir", d, "user", "disable", "nurse1"], None)
        .status
        .success());
    let list = run(&["--data-dir", d, "user", "list"], None);
    assert!(text(&list).contains("nurse1") && text(&list).contains("(disabled)"));
    assert_eq!(
        run(&["--data-dir", d, "user", "passwd", "ghost"], Some("x\n"))
            .status
            .code(),
        Some(1)
    );

    let v = run(&["--data-dir", d, "audit", "verify"], None);
    assert!(v.status.success(), "{}", text(&v));
    assert!(text(&v).contains("audit trail intact"));

    // Backup: a consistent copy that opens and holds the same users; never overwrites.
    let copy = dir.join("copy.db");
    let b = run(&["--data-dir", d, "backup", copy.to_str().unwrap()], None);
    assert!(b.status.success(), "{}", text(&b));
    let copy_dir = dir.join("restored");
    std::fs::create_dir_all(&copy_dir).unwrap();
    std::fs::copy(&copy, copy_dir.join("bala.db")).unwrap();
    let l = run(
        &["--data-dir", copy_dir.to_str().unwrap(), "user", "list"],
        None,
    );
    assert!(text(&l).contains("nurse1"), "{}", text(&l));
    let again = run(&["--data-dir", d, "backup", copy.to_str().unwrap()], None);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again).contains("already exists"));

    // Tampering is found and named.
    tamper(&dir.join("bala.db"));
    let v = run(&["--data-dir", d, "audit", "verify"], None);
    assert_eq!(v.status.code(), Some(1));
    assert!(text(&v).contains("entry 2 was edited"), "{}", text(&v));
}

fn tamper(db: &Path) {
    let url = format!("sqlite://{}", db.display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = bala_store::Db::connect(&url, &Default::default())
            .await
            .unwrap();
        let mut tx = db.begin().await.unwrap();
        bala_store::sqlx::query("DROP TRIGGER audit_log_no_update")
            .execute(&mut *tx)
            .await
            .unwrap();
        bala_store::sqlx::query("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        db.close().await;
    });
}

#[test]
fn postgres_through_database_url() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    // An empty database: `bala` migrates it itself.
    let admin = bala_store::testing::pg_admin_url();
    let name = format!("bala_cli_{}", std::process::id());
    let url = rt.block_on(async {
        use bala_store::sqlx::{AnyConnection, Connection, Executor};
        bala_store::sqlx::any::install_default_drivers();
        let mut c = AnyConnection::connect(&admin)
            .await
            .expect("PostgreSQL for tests");
        c.execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
            .await
            .unwrap();
        c.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        let mut u = admin.clone();
        u.truncate(u.rfind('/').unwrap());
        format!("{u}/{name}")
    });
    let o = run(&["--database-url", &url, "migrate"], None);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        &[
            "--database-url",
            &url,
            "user",
            "add",
            "--username",
            "analyst1",
            "--display-name",
            "A",
            "--role",
            "analyst",
            "--area",
            "000000000",
        ],
        Some("Winter-Steppe-2026\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["--database-url", &url, "audit", "verify"], None);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["--database-url", &url, "backup", "/tmp/never.db"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("pg_dump"));
    rt.block_on(async {
        use bala_store::sqlx::{AnyConnection, Connection, Executor};
        let mut c = AnyConnection::connect(&admin).await.unwrap();
        c.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .unwrap();
    });
}

/// `serve` answers, then stops cleanly on SIGTERM.
#[test]
fn serve_and_graceful_shutdown() {
    let dir = temp_dir("serve");
    let mut child = bala()
        .args([
            "--data-dir",
            dir.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split("running at ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let health = std::process::Command::new("curl")
        .args(["-sf", &format!("{url}healthz")])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&health.stdout).contains("\"status\":\"ok\""));
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit on SIGTERM: {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("Bala stopped")), "{rest:?}");
}

/// Batch work of the immunization pillar: import people and doses (dry run,
/// real run, re-run unchanged), then the due list and coverage from the same data.
#[test]
fn immunization_batch_commands() {
    let dir = temp_dir("imm");
    let url = format!("sqlite://{}", dir.join("bala.db").display());
    let today = time::OffsetDateTime::now_utc().date();
    let birth = today - time::Duration::days(420);
    let birth_s = bala_core::date::iso(birth);
    let people = dir.join("people.csv");
    std::fs::write(
        &people,
        format!(
            "iin;family_name;given_name;birth_date;sex;area_code\n;Жаксылыков;Алихан;{birth_s};M;751110000\n;Жаксылыкова;;{birth_s};F;751110000\n"
        ),
    )
    .unwrap();
    let o = run(
        &[
            "--database-url",
            &url,
            "import",
            "people",
            people.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "one row rejected: {}", text(&o));
    let out = text(&o);
    assert!(out.contains("row 3 (rejected): given_name"), "{out}");
    assert!(
        out.contains("2 rows: 1 imported, 0 unchanged, 1 rejected"),
        "{out}"
    );
    let doses = dir.join("doses.csv");
    let d = |days: i64| bala_core::date::iso(birth + time::Duration::days(days));
    std::fs::write(
        &doses,
        format!(
            "person_id,product,given_on\n1,BCG,{}\n1,HEXA,{}\n1,HEXA,{}\n1,NOPE,{}\n",
            d(1),
            d(61),
            d(92),
            d(100)
        ),
    )
    .unwrap();
    let args = [
        "--database-url",
        &url,
        "import",
        "doses",
        doses.to_str().unwrap(),
    ];
    let dry = run(&[&args[..], &["--dry-run"]].concat(), None);
    assert!(
        text(&dry).contains("3 would be imported, 0 unchanged, 1 rejected (dry run"),
        "{}",
        text(&dry)
    );
    assert!(
        text(&dry).contains("row 5 (rejected): product"),
        "{}",
        text(&dry)
    );
    let real = run(&args, None);
    assert!(
        text(&real).contains("3 imported, 0 unchanged, 1 rejected"),
        "{}",
        text(&real)
    );
    let again = run(&args, None);
    assert!(
        text(&again).contains("0 imported, 3 unchanged, 1 rejected"),
        "{}",
        text(&again)
    );

    // The child has DTP1 and DTP2 but not DTP3: overdue for it, under-immunized at 12 months.
    let o = run(
        &[
            "--database-url",
            &url,
            "duelist",
            "--area",
            "751110000",
            "--kind",
            "overdue",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let csv = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(csv.starts_with("person_id,name,iin"), "{csv}");
    assert!(csv.contains("DTP3,overdue"), "{csv}");
    let o = run(
        &[
            "--database-url",
            &url,
            "duelist",
            "--area",
            "751110000",
            "--kind",
            "under-immunized",
            "--format",
            "json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    let year = birth.year().to_string();
    let o = run(
        &[
            "--database-url",
            &url,
            "coverage",
            "--area",
            "750000000",
            "--cohort",
            &year,
            "--antigen",
            "DTP1,DTP3",
            "--format",
            "csv",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let csv = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(csv.contains("751110000,cohort,"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("751110000,") && l.contains(",DTP1,1,100.0,")),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("751110000,") && l.contains(",DTP3,0,0.0,")),
        "{csv}"
    );
    // Bad arguments name the flag.
    let o = run(
        &[
            "--database-url",
            &url,
            "coverage",
            "--area",
            "1",
            "--cohort",
            &year,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("--area"), "{}", text(&o));
    let o = run(
        &[
            "--database-url",
            &url,
            "coverage",
            "--cohort",
            &year,
            "--antigen",
            "XYZ",
        ],
        None,
    );
    assert!(text(&o).contains("--antigen"), "{}", text(&o));
    let o = run(&["--database-url", &url, "immunization", "refresh"], None);
    assert!(
        text(&o).contains("re-derived the valid doses of 1 children"),
        "{}",
        text(&o)
    );
    for args in [
        vec!["duelist", "--help"],
        vec!["coverage", "--help"],
        vec!["import", "doses", "--help"],
        vec!["import", "people", "--help"],
    ] {
        assert!(run(&args, None).status.success(), "{args:?}");
    }
}

/// A FHIR file in, idempotently, with a dry run first; the area out as NDJSON
/// files; the files back in change nothing; clear errors for bad arguments.
#[test]
fn fhir_import_and_export_on_sqlite() {
    let dir = temp_dir("fhir");
    let d = dir.to_str().unwrap();
    assert!(run(&["--data-dir", d, "migrate"], None).status.success());
    let imm = |id: &str, cvx: &str, date: &str| {
        format!(
            r#"{{"resourceType":"Immunization","id":"{id}","status":"completed","vaccineCode":{{"coding":[{{"system":"http://hl7.org/fhir/sid/cvx","code":"{cvx}"}}]}},"patient":{{"reference":"Patient/p1"}},"occurrenceDateTime":"{date}","lotNumber":"L1"}}"#
        )
    };
    let file = dir.join("in.ndjson");
    let input = [
        r#"{"resourceType":"Patient","id":"p1","identifier":[{"system":"https://bala.kz/fhir/sid/iin","value":"240501600120"}],"name":[{"family":"Сейітқали","given":["Айгерім"]}],"gender":"female","birthDate":"2024-05-01","address":[{"extension":[{"url":"https://bala.kz/fhir/StructureDefinition/kato","valueCode":"751110000"}]}]}"#.to_string(),
        imm("a1", "19", "2024-05-02"),
        imm("a2", "146", "2024-07-01"),
        imm("a3", "999", "2024-07-01"),
    ]
    .join("\n");
    std::fs::write(&file, input).unwrap();
    let f = file.to_str().unwrap();

    let o = run(&["--data-dir", d, "import", "fhir", f, "--dry-run"], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("line 4 (rejected) — vaccineCode: vaccine code http://hl7.org/fhir/sid/cvx|999 is not mapped"), "{out}");
    assert!(
        out.contains("3 would be imported, 0 unchanged, 1 rejected"),
        "{out}"
    );
    assert!(out.contains("4/4 resources"), "progress on stderr: {out}");

    let o = run(&["--data-dir", d, "import", "fhir", f], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("3 imported, 0 unchanged, 1 rejected"),
        "{}",
        text(&o)
    );
    let o = run(&["--data-dir", d, "import", "fhir", f], None);
    assert!(
        text(&o).contains("0 imported, 3 unchanged, 1 rejected"),
        "{}",
        text(&o)
    );

    let out_dir = dir.join("export");
    let x = out_dir.to_str().unwrap();
    let o = run(
        &[
            "--data-dir",
            d,
            "export",
            "fhir",
            "--out",
            x,
            "--area",
            "751110000",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("wrote 1 patients, 2 immunizations, 1 recommendations"),
        "{}",
        text(&o)
    );
    let read = |n: &str| std::fs::read_to_string(out_dir.join(n)).unwrap();
    assert_eq!(read("Patient.ndjson").lines().count(), 1);
    assert_eq!(read("Immunization.ndjson").lines().count(), 2);
    assert_eq!(read("ImmunizationRecommendation.ndjson").lines().count(), 1);
    assert!(read("Immunization.ndjson").contains("\"lotNumber\":\"L1\""));

    // Bala's own export read back: the child is matched by IIN, the doses by vaccine and day.
    let back = dir.join("back.ndjson");
    std::fs::write(&back, read("Patient.ndjson") + &read("Immunization.ndjson")).unwrap();
    let o = run(
        &["--data-dir", d, "import", "fhir", back.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("0 imported, 3 unchanged, 0 rejected"),
        "{}",
        text(&o)
    );

    // Errors: a missing file, an unknown user, a user who may not, a bad area.
    let o = run(
        &["--data-dir", d, "import", "fhir", "/nonexistent.json"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("cannot read /nonexistent.json"),
        "{}",
        text(&o)
    );
    let o = run(
        &["--data-dir", d, "import", "fhir", f, "--as", "nobody"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("--as: no user named 'nobody'"),
        "{}",
        text(&o)
    );
    let add = [
        "--data-dir",
        d,
        "user",
        "add",
        "--username",
        "nurse1",
        "--display-name",
        "N",
        "--role",
        "health_worker",
        "--area",
        "751110000",
    ];
    assert!(run(&add, Some("Winter-Steppe-2026\n")).status.success());
    let o = run(
        &[
            "--data-dir",
            d,
            "export",
            "fhir",
            "--out",
            x,
            "--as",
            "nurse1",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("may not import or export personal data in bulk"),
        "{}",
        text(&o)
    );
    let o = run(
        &[
            "--data-dir",
            d,
            "export",
            "fhir",
            "--out",
            x,
            "--area",
            "12",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("--area"), "{}", text(&o));
    let add = [
        "--data-dir",
        d,
        "user",
        "add",
        "--username",
        "manager1",
        "--display-name",
        "M",
        "--role",
        "regional_manager",
        "--area",
        "750000000",
    ];
    assert!(run(&add, Some("Winter-Steppe-2026\n")).status.success());
    let o = run(
        &[
            "--data-dir",
            d,
            "export",
            "fhir",
            "--out",
            x,
            "--area",
            "434600000",
            "--as",
            "manager1",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("--area: no area 434600000 within the areas you may export"),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

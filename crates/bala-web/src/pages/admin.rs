//! Administration: user accounts and the audit trail.

use super::people::area_options;
use super::{redirect_with_flash, render, Chrome, FieldMessages};
use crate::error::AppError;
use crate::extract::{WebForm as Form, WebPath as Path, WebQuery as Query};
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use bala_access::users::{self, NewUser};
use bala_access::{AccessError, Action, Role};
use bala_core::{AreaCode, ValidationErrors};
use bala_registry::areas;
use bala_store::audit;
use serde::Deserialize;

pub fn routes() -> RouteTable {
    let admin = Rule::Can(Action::ManageUsers);
    RouteTable::new()
        .get("/admin/users", admin, list)
        .get("/admin/users/new", admin, new_form)
        .post("/admin/users", admin, create)
        .get("/admin/users/{id}", admin, show)
        .post("/admin/users/{id}", admin, update)
        .post("/admin/users/{id}/password", admin, set_password)
        .post("/admin/users/{id}/disable", admin, set_disabled)
        .post(
            "/admin/users/{id}/tokens/{token}/revoke",
            admin,
            revoke_token,
        )
        .get("/admin/audit", Rule::Can(Action::ViewAudit), audit_page)
}

fn role_key(r: Role) -> String {
    format!("role-{}", r.code().replace('_', "-"))
}

struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role_key: String,
    scope: String,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "users_list.html")]
struct ListPage {
    c: Chrome,
    users: Vec<UserRow>,
}

async fn scope_label(app: &AppState, scope: &[AreaCode], lang: &str) -> Result<String, AppError> {
    Ok(areas::scope_areas(&app.db, scope)
        .await?
        .iter()
        .map(|a| a.name(lang).to_string())
        .collect::<Vec<_>>()
        .join(", "))
}

async fn list(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    let mut rows = Vec::new();
    for u in users::list(&app.db).await? {
        rows.push(UserRow {
            id: u.id,
            scope: scope_label(&app, &u.scope, v.lang.code()).await?,
            username: u.username,
            display_name: u.display_name,
            role_key: role_key(u.role),
            disabled: u.disabled,
        });
    }
    render(&ListPage {
        c: Chrome::new(&v, "users", &uri),
        users: rows,
    })
}

#[derive(Deserialize, Default)]
struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    password: String,
}

struct FormView {
    username: String,
    display_name: String,
    role: String,
    scope: String,
    errors: FieldMessages,
}

impl FormView {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[derive(Template)]
#[template(path = "user_form.html")]
struct FormPage {
    c: Chrome,
    title: &'static str,
    action: String,
    editing: bool,
    disabled: bool,
    f: FormView,
    roles: Vec<(&'static str, String)>,
    area_options: Vec<(String, String)>,
    /// The user's API tokens (when editing): id, name, prefix, scope message, revoked.
    tokens: Vec<(i64, String, String, String, bool)>,
}

async fn form_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    editing: Option<(i64, bool)>,
    f: &UserForm,
    errors: Option<&ValidationErrors>,
) -> Result<FormPage, AppError> {
    let c = Chrome::new(v, "users", uri);
    let errors = FieldMessages::translate(c.tr, errors);
    Ok(FormPage {
        title: if editing.is_some() {
            "user-edit"
        } else {
            "user-new"
        },
        action: editing
            .map(|(id, _)| format!("/admin/users/{id}"))
            .unwrap_or_else(|| "/admin/users".into()),
        editing: editing.is_some(),
        disabled: editing.is_some_and(|(_, d)| d),
        f: FormView {
            username: f.username.clone(),
            display_name: f.display_name.clone(),
            role: f.role.clone(),
            scope: f.scope.clone(),
            errors,
        },
        roles: Role::ALL.iter().map(|r| (r.code(), role_key(*r))).collect(),
        area_options: area_options(app, &v.principal()?.scope, v.lang.code()).await?,
        tokens: match editing {
            Some((id, _)) => bala_access::tokens::list_for(&app.db, id)
                .await?
                .into_iter()
                .map(|t| {
                    (
                        t.id,
                        t.name,
                        t.prefix,
                        format!("token-scope-{}", t.scope.replace('_', "-")),
                        t.revoked_at.is_some(),
                    )
                })
                .collect(),
            None => vec![],
        },
        c,
    })
}

/// Parses role and scope from the form, checking the area exists.
async fn role_and_scope(
    app: &AppState,
    f: &UserForm,
) -> Result<(Role, Vec<AreaCode>), ValidationErrors> {
    let mut e = ValidationErrors::new();
    let role = f
        .role
        .parse::<Role>()
        .map_err(|m| e.push("role", "err-role", m))
        .ok();
    let scope = match AreaCode::parse(&f.scope) {
        Ok(a)
            if areas::get(&app.db, a.as_str())
                .await
                .ok()
                .flatten()
                .is_some() =>
        {
            Some(a)
        }
        _ => {
            e.push("scope", "err-area-unknown", "choose an existing area");
            None
        }
    };
    e.into_result()?;
    Ok((role.expect("checked"), vec![scope.expect("checked")]))
}

fn rerender(page: FormPage) -> Result<Response, AppError> {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

async fn new_form(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    let f = UserForm {
        role: Role::HealthWorker.code().into(),
        ..Default::default()
    };
    render(&form_page(&app, &v, &uri, None, &f, None).await?)
}

async fn create(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<UserForm>,
) -> Result<Response, AppError> {
    let (role, scope) = match role_and_scope(&app, &f).await {
        Ok(x) => x,
        Err(e) => return rerender(form_page(&app, &v, &uri, None, &f, Some(&e)).await?),
    };
    let new = NewUser {
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        password: f.password.clone(),
        role,
        scope,
    };
    match users::create(&app.db, &v.actor(), &new).await {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/admin/users/{id}"),
            "flash-user-created",
            app.config.secure_cookies,
        )),
        Err(AccessError::Validation(e)) => {
            rerender(form_page(&app, &v, &uri, None, &f, Some(&e)).await?)
        }
        Err(e) => Err(e.into()),
    }
}

async fn show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let u = users::get(&app.db, id).await?;
    let f = UserForm {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role.code().into(),
        scope: u
            .scope
            .first()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default(),
        password: String::new(),
    };
    render(&form_page(&app, &v, &uri, Some((id, u.disabled)), &f, None).await?)
}

async fn update(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
    Form(mut f): Form<UserForm>,
) -> Result<Response, AppError> {
    let u = users::get(&app.db, id).await?;
    f.username = u.username.clone();
    let (role, scope) = match role_and_scope(&app, &f).await {
        Ok(x) => x,
        Err(e) => {
            return rerender(form_page(&app, &v, &uri, Some((id, u.disabled)), &f, Some(&e)).await?)
        }
    };
    match users::update(&app.db, &v.actor(), id, &f.display_name, role, &scope).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/admin/users/{id}"),
            "flash-user-saved",
            app.config.secure_cookies,
        )),
        Err(AccessError::Validation(e)) => {
            rerender(form_page(&app, &v, &uri, Some((id, u.disabled)), &f, Some(&e)).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
}

async fn set_password(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    users::set_password(&app.db, &v.actor(), id, &f.password).await?;
    Ok(redirect_with_flash(
        &format!("/admin/users/{id}"),
        "flash-password-set",
        app.config.secure_cookies,
    ))
}

#[derive(Deserialize)]
struct DisableForm {
    disabled: String,
}

async fn set_disabled(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(f): Form<DisableForm>,
) -> Result<Response, AppError> {
    let disable = f.disabled == "yes";
    if disable && v.principal()?.user_id == id {
        return Err(AppError::Validation(ValidationErrors::single(
            bala_core::FieldError::new(
                "disabled",
                "err-disable-self",
                "you cannot disable your own account",
            ),
        )));
    }
    users::set_disabled(&app.db, &v.actor(), id, disable).await?;
    let flash = if disable {
        "flash-user-disabled"
    } else {
        "flash-user-enabled"
    };
    Ok(redirect_with_flash(
        &format!("/admin/users/{id}"),
        flash,
        app.config.secure_cookies,
    ))
}

async fn revoke_token(
    State(app): State<AppState>,
    v: Visitor,
    Path((id, token)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    bala_access::tokens::revoke(&app.db, &v.actor(), id, token).await?;
    Ok(redirect_with_flash(
        &format!("/admin/users/{id}"),
        "flash-token-revoked",
        app.config.secure_cookies,
    ))
}

// ---- audit ------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    record_type: String,
    #[serde(default)]
    record_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    before: Option<i64>,
}

struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    record_type: String,
    record_id: Option<String>,
    link: Option<String>,
    ip: Option<String>,
    details: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    f: AuditQuery,
    errors: Vec<String>,
    entries: Vec<AuditRow>,
    older: Option<String>,
    known_actions: &'static [&'static str],
}

const KNOWN_ACTIONS: &[&str] = &[
    "person.read",
    "person.search",
    "person.create",
    "person.update",
    "person.merge",
    "person.history",
    "person.link",
    "person.unlink",
    "person.household",
    "household.create",
    "household.read",
    "login",
    "login.failure",
    "logout",
    "user.create",
    "user.update",
    "user.password",
    "user.disable",
    "user.enable",
    "token.create",
    "token.revoke",
    "area.load",
];

fn record_link(record_type: &str, id: &str) -> Option<String> {
    id.parse::<i64>().ok()?;
    match record_type {
        "person" => Some(format!("/people/{id}")),
        "household" => Some(format!("/households/{id}")),
        "user" => Some(format!("/admin/users/{id}")),
        _ => None,
    }
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

async fn audit_page(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let c = Chrome::new(&v, "audit", &uri);
    let mut errors = vec![];
    for (name, val) in [("from", &q.from), ("to", &q.to)] {
        if !val.is_empty() && bala_core::parse_date(val).is_err() {
            errors.push(format!(
                "{}: {}",
                c.t(&format!("audit-{name}")),
                c.t("err-date")
            ));
        }
    }
    let filter = audit::Filter {
        actor: opt(&q.actor),
        action: opt(&q.action),
        record_type: opt(&q.record_type),
        record_id: opt(&q.record_id),
        from: if errors.is_empty() {
            opt(&q.from)
        } else {
            None
        },
        to: if errors.is_empty() { opt(&q.to) } else { None },
    };
    const PAGE: i64 = 100;
    let entries = audit::list(&app.db, &filter, q.before, PAGE).await?;
    let older = (entries.len() as i64 == PAGE).then(|| {
        let last = entries.last().map(|e| e.seq).unwrap_or(0);
        let pairs = [
            ("actor", &q.actor),
            ("action", &q.action),
            ("record_type", &q.record_type),
            ("record_id", &q.record_id),
            ("from", &q.from),
            ("to", &q.to),
        ];
        let mut qs: Vec<(&str, String)> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (*k, (*v).clone()))
            .collect();
        qs.push(("before", last.to_string()));
        format!(
            "/admin/audit?{}",
            serde_urlencoded::to_string(qs).unwrap_or_default()
        )
    });
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            link: e
                .record_id
                .as_deref()
                .and_then(|id| record_link(&e.record_type, id)),
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            record_type: e.record_type,
            record_id: e.record_id,
            ip: e.ip,
            details: e.details,
        })
        .collect();
    render(&AuditPage {
        c,
        f: q,
        errors,
        entries: rows,
        older,
        known_actions: KNOWN_ACTIONS,
    })
}

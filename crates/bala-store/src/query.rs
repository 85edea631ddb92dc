//! A small builder for queries whose shape depends on the input (filters, `IN`
//! lists), producing `$n` placeholders that both databases accept.
//! (sqlx's own `QueryBuilder<Any>` writes `?`, which PostgreSQL rejects.)

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Float(Option<f64>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(Some(s.to_string()))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(Some(s))
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Text(Some(s.clone()))
    }
}
impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Self {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(Some(v))
    }
}

impl Value {
    /// The integer, if this is a non-null integer.
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => *v,
            _ => None,
        }
    }
    /// The text, if this is non-null text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(v) => v.as_deref(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Sql {
    text: String,
    args: Vec<Value>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Adds a parameter and returns its placeholder (`$n`) to use in the text.
    pub fn arg(&mut self, v: impl Into<Value>) -> String {
        self.args.push(v.into());
        format!("${}", self.args.len())
    }

    /// Appends a parameter's placeholder at the end of the text.
    pub fn push_arg(&mut self, v: impl Into<Value>) -> &mut Self {
        let p = self.arg(v);
        self.text.push_str(&p);
        self
    }

    /// Appends `p1, p2, …` for a list of parameters.
    pub fn push_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        let ps: Vec<String> = values.into_iter().map(|v| self.arg(v)).collect();
        self.text.push_str(&ps.join(", "));
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parameters, in placeholder order.
    pub fn args(&self) -> &[Value] {
        &self.args
    }

    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Value::Text(v) => q.bind(v.clone()),
                Value::Int(v) => q.bind(*v),
                Value::Float(v) => q.bind(*v),
            };
        }
        q
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_placeholders_in_order() {
        let mut s = super::Sql::new("SELECT * FROM t WHERE a = ");
        s.push_arg("x")
            .push(" AND b IN (")
            .push_list([1i64, 2])
            .push(")");
        assert_eq!(s.text(), "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)");
    }
}

//! `FOR XML PATH`: a query's rows as one XML string, the way tools build lists
//! (`STUFF((SELECT ', ' + name FROM … FOR XML PATH('')), 1, 2, '')`).
//!
//! Each row becomes an element named by `PATH('row')` (none for `PATH('')`); a column with a
//! name becomes a child element, one without a name (or named `*` or `text()`) becomes text,
//! one named `@x` an attribute of the row's element. NULLs are left out and text is escaped.
//! The result is one `nvarchar(max)` column named as SQL Server names it, or no row when the
//! query has none.

use super::Output;
use crate::ast::ForXml;
use crate::value::{Column, SqlType, Value, convert};

/// SQL Server's name for the column of a FOR XML result.
pub const XML_COLUMN: &str = "XML_F52E2B61-18A1-11d1-B105-00805F49916B";

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\r' => out.push_str("&#x0D;"),
            c => out.push(c),
        }
    }
    out
}

/// A value as XML text: dates in ISO 8601 (`2024-05-01T10:00:00`), binary in base 64 is not
/// emulated (hex text instead).
fn text_of(v: &Value, ty: SqlType) -> String {
    let s = match convert::implicit(v, ty, SqlType::NVarChar(None)) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    };
    if ty.is_datetime() {
        s.replacen(' ', "T", 1)
    } else {
        s
    }
}

/// The query's output as FOR XML PATH gives it.
pub(crate) fn serialize(output: Output, xml: &ForXml) -> Output {
    let mut text = String::new();
    for row in &output.rows {
        let mut attributes = String::new();
        let mut content = String::new();
        for (col, v) in output.columns.iter().zip(row) {
            if v.is_null() {
                continue;
            }
            let value = text_of(v, col.ty);
            let name = col.name.as_str();
            if xml.text_value {
                // `.value('.', …)`: the text of every element, attributes left out.
                if !name.starts_with('@') {
                    content.push_str(&value);
                }
            } else if let Some(attr) = name.strip_prefix('@') {
                attributes.push_str(&format!(" {attr}=\"{}\"", escape(&value, true)));
            } else if name.is_empty() || name == "*" || name.eq_ignore_ascii_case("text()") {
                content.push_str(&escape(&value, false));
            } else {
                content.push_str(&format!("<{name}>{}</{name}>", escape(&value, false)));
            }
        }
        if xml.element.is_empty() || xml.text_value {
            text.push_str(&content);
        } else if content.is_empty() {
            text.push_str(&format!("<{}{attributes}/>", xml.element));
        } else {
            text.push_str(&format!("<{0}{attributes}>{content}</{0}>", xml.element));
        }
    }
    if let Some(root) = xml.root.as_ref().filter(|_| !xml.text_value) {
        text = format!("<{root}>{text}</{root}>");
    }
    let rows = if output.rows.is_empty() && xml.root.is_none() {
        Vec::new()
    } else {
        vec![vec![Value::String(text)]]
    };
    Output {
        columns: vec![Column::new(XML_COLUMN, SqlType::NVarChar(None), true)],
        rows,
        untyped: vec![false],
        ..output
    }
}
